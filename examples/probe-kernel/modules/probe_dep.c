/*
 * probe_dep: a module others depend on. As a FreeBSD module declares itself (sys/sys/module.h): DECLARE_MODULE's
 * MDT_MODULE record and its MODULE_DEPEND on the kernel it was built for, [__FreeBSD_version,
 * __FreeBSD_version, MODULE_KERNEL_MAXVER], plus MODULE_VERSION so that others can depend on it.
 */
#include "freebsd_module.h"

/* Something in .data that the probe's CRC covers once the loader has placed it. */
char probe_dep_greeting[] = "probe_dep: loaded by kexec-ts";

static int
probe_dep_modevent(void *mod, int what, void *arg)
{
	(void)mod, (void)what, (void)arg;
	return 0;
}

static moduledata_t probe_dep_mod = {"probe_dep", probe_dep_modevent, 0};
DECLARE_MODULE_METADATA(probe_dep, probe_dep_mod);
MODULE_DEPEND(probe_dep, kernel, __FreeBSD_version, __FreeBSD_version, MODULE_KERNEL_MAXVER);
MODULE_VERSION(probe_dep, 1);
