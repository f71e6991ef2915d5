/*
 * The module metadata a FreeBSD kernel and its modules carry, in the shapes of the real headers, so that the
 * loader (and kexec-ts, which mirrors stand/common/load_elf.c parse_modmetadata and load_elf_obj.c
 * obj_parse_modmetadata) sees exactly what it sees in a FreeBSD build:
 *
 *   sys/sys/linker_set.h  DATA_SET/__MAKE_SET_QV: a static pointer to the object in section "set_<name>", plus a
 *                         reference to __start_set_<name>/__stop_set_<name>, which makes the linker define those
 *                         bounds (GNU ld and lld do this for a referenced section whose name is a C identifier).
 *                         This is the __GLOBL form FreeBSD used until it switched to __WEAK: GNU as drops a
 *                         .weak symbol nothing else refers to, and then the kernel and the arm64 modules would
 *                         lose __start_/__stop_set_modmetadata_set, through which the loader finds the set.
 *   sys/sys/module.h      struct mod_metadata/mod_depend/mod_version, MDT_*, MODULE_METADATA, MODULE_DEPEND,
 *                         MODULE_VERSION, and the MDT_MODULE record DECLARE_MODULE emits (without its SYSINIT:
 *                         nothing here is ever linked by a real kernel linker).
 *   sys/sys/param.h       __FreeBSD_version (1500000: FreeBSD 15.0).
 */
#ifndef PROBE_FREEBSD_MODULE_H
#define PROBE_FREEBSD_MODULE_H

#define __FreeBSD_version	1500000
/* roundup(__FreeBSD_version, 100000) - 1 (sys/sys/module.h MODULE_KERNEL_MAXVER) */
#define MODULE_KERNEL_MAXVER	1599999

#define __CONCAT1(x, y)		x ## y
#define __CONCAT(x, y)		__CONCAT1(x, y)
#define __STRING(x)		#x
#define __XSTRING(x)		__STRING(x)
#define __section(x)		__attribute__((__section__(x)))
#define __used			__attribute__((__used__))
#define __GLOBL(sym)		__asm__(".globl " __XSTRING(sym))

/* sys/sys/linker_set.h */
#define __MAKE_SET_QV(set, sym, qv)					\
	__GLOBL(__CONCAT(__start_set_, set));				\
	__GLOBL(__CONCAT(__stop_set_, set));				\
	static void const * qv						\
	__set_##set##_sym_##sym __section("set_" #set)			\
	__used = &(sym)
#define DATA_SET(set, sym)	__MAKE_SET_QV(set, sym, const)

/* sys/sys/module.h */
#define MDT_DEPEND		1	/* argument is a module name */
#define MDT_MODULE		2	/* module declaration */
#define MDT_VERSION		3	/* module version(s) */
#define MDT_STRUCT_VERSION	1	/* version of metadata structure */

struct mod_depend {
	int	md_ver_minimum;
	int	md_ver_preferred;
	int	md_ver_maximum;
};

struct mod_version {
	int	mv_version;
};

struct mod_metadata {
	int		md_version;	/* structure version MDTV_* */
	int		md_type;	/* type of entry MDT_* */
	const void	*md_data;	/* specific data */
	const char	*md_cval;	/* common string label */
};

typedef struct moduledata {
	const char	*name;		/* module name */
	int		(*evhand)(void *mod, int what, void *arg);
	void		*priv;		/* extra data */
} moduledata_t;

#define MODULE_METADATA(uniquifier, type, data, cval)			\
	static struct mod_metadata _mod_metadata##uniquifier = {	\
		MDT_STRUCT_VERSION,					\
		type,							\
		data,							\
		cval							\
	};								\
	DATA_SET(modmetadata_set, _mod_metadata##uniquifier)

#define MODULE_DEPEND(module, mdepend, vmin, vpref, vmax)		\
	static struct mod_depend _##module##_depend_on_##mdepend	\
	    __section(".data") = {					\
		vmin,							\
		vpref,							\
		vmax							\
	};								\
	MODULE_METADATA(_md_##module##_on_##mdepend, MDT_DEPEND,	\
	    &_##module##_depend_on_##mdepend, #mdepend)

#define MODULE_VERSION(module, version)					\
	static struct mod_version _##module##_version			\
	    __section(".data") = {					\
		version							\
	};								\
	MODULE_METADATA(_##module##_version, MDT_VERSION,		\
	    &_##module##_version, #module)

/* The MDT_MODULE half of DECLARE_MODULE(name, data, ...); real modules also get a SYSINIT and a depend on kernel. */
#define DECLARE_MODULE_METADATA(name, data)				\
	MODULE_METADATA(_md_##name, MDT_MODULE, &data, __XSTRING(name))

#endif
