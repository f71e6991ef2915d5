/*
 * probe_hello: a module with a dependency, so that loading it by name makes the loader (and kexec-ts) find and
 * add probe_dep.ko. MODULE_DEPEND(probe_hello, probe_dep, 1, 1, 1) and the kernel depend DECLARE_MODULE adds
 * (sys/sys/module.h).
 */
#include "freebsd_module.h"

char probe_hello_greeting[] = "probe_hello: hello from a preloaded module";

static int
probe_hello_modevent(void *mod, int what, void *arg)
{
	(void)mod, (void)what, (void)arg;
	return 0;
}

static moduledata_t probe_hello_mod = {"probe_hello", probe_hello_modevent, 0};
DECLARE_MODULE_METADATA(probe_hello, probe_hello_mod);
MODULE_DEPEND(probe_hello, kernel, __FreeBSD_version, __FreeBSD_version, MODULE_KERNEL_MAXVER);
MODULE_DEPEND(probe_hello, probe_dep, 1, 1, 1);
MODULE_VERSION(probe_hello, 1);
