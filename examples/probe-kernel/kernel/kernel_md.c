/*
 * What makes the probe look like a FreeBSD kernel to a loader (and to kexec-ts's inspect/plan). Nothing here is
 * executed; the probe never dereferences these absolute pointers.
 */
#include <stdint.h>
#include "freebsd_module.h"

/*
 * The ABI tag note, NT_FREEBSD_ABI_TAG (1) owned by "FreeBSD" with __FreeBSD_version as its descriptor
 * (sys/sys/elf_common.h; the same note lib/csu/common/crtbrand.c puts in every FreeBSD program). gas gives a
 * section named .note.* the type SHT_NOTE; the linker script puts it in a PT_NOTE.
 */
static const struct {
	int32_t	namesz;
	int32_t	descsz;
	int32_t	type;
	char	name[sizeof("FreeBSD")];
	int32_t	desc;
} abitag __section(".note.tag") __attribute__((__aligned__(4))) __used = {
	sizeof("FreeBSD"), sizeof(int32_t), 1, "FreeBSD", __FreeBSD_version,
};

/*
 * sys/kern/kern_module.c: MODULE_VERSION(kernel, __FreeBSD_version), the version modules' MODULE_DEPEND on
 * "kernel" is checked against; plus the MDT_MODULE "kernel" record DECLARE_MODULE would add.
 */
MODULE_VERSION(kernel, __FreeBSD_version);
static const moduledata_t kernel_mod = {"kernel", 0, 0};
DECLARE_MODULE_METADATA(kernel, kernel_mod);
