#!/bin/sh
#
# freebsd-update-kexec.sh: install FreeBSD updates, then reboot into the new kernel with kexec-ts instead of
# going through the firmware and the boot loader again.
#
#   1. freebsd-update install   (skip with --no-install after `make installkernel`)
#   2. kexec-ts load KERNEL     kexec-ts reads /boot/loader.conf itself (modules, module_path, environment;
#                               see loaderConf in the kexec-ts config), so only the kernel is named here
#   3. kexec-ts exec --yes      boot the staged kernel
#   4. shutdown -r now          a normal reboot when 2 or 3 fails, so the machine still comes up on the new kernel
#
# A failed install stops the script without rebooting. Progress goes to stderr and to syslog (logger(1), tag
# freebsd-update-kexec). --dry-run prints what would be done and changes nothing.
#
# Environment: KEXEC_TS (default kexec-ts), FREEBSD_UPDATE (default freebsd-update).
# Installed by `kexec-ts init --script`.

set -eu

PROG=freebsd-update-kexec
KERNEL=/boot/kernel/kernel
KEXEC_TS=${KEXEC_TS:-kexec-ts}
FREEBSD_UPDATE=${FREEBSD_UPDATE:-freebsd-update}
DRY_RUN=0
INSTALL=1

usage() {
	cat <<USAGE
usage: $PROG [--dry-run] [--no-install] [--kernel PATH]

  -n, --dry-run     print the commands instead of running them
  --no-install      do not run freebsd-update install (the kernel is already installed)
  --kernel PATH     kernel to boot (default: /boot/kernel/kernel)
  -h, --help        this text
USAGE
}

# log LEVEL MESSAGE: stderr, and syslog unless this is a dry run.
log() {
	level=$1
	shift
	printf '%s: %s\n' "$PROG" "$*" >&2
	if [ "$DRY_RUN" -eq 0 ]; then
		logger -t "$PROG" -p "daemon.$level" -- "$*" || :
	fi
}

# run COMMAND...: run it, or only print it in a dry run.
run() {
	if [ "$DRY_RUN" -eq 1 ]; then
		printf 'would run: %s\n' "$*"
		return 0
	fi
	"$@"
}

while [ $# -gt 0 ]; do
	case $1 in
	-n | --dry-run) DRY_RUN=1 ;;
	--no-install) INSTALL=0 ;;
	--kernel)
		if [ $# -lt 2 ]; then
			usage >&2
			exit 2
		fi
		KERNEL=$2
		shift
		;;
	--kernel=*) KERNEL=${1#--kernel=} ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		printf '%s: unknown option: %s\n' "$PROG" "$1" >&2
		usage >&2
		exit 2
		;;
	esac
	shift
done

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
	printf '%s: must run as root (or use --dry-run)\n' "$PROG" >&2
	exit 1
fi

if [ "$INSTALL" -eq 1 ]; then
	log notice "installing updates: $FREEBSD_UPDATE install"
	run "$FREEBSD_UPDATE" install || {
		status=$?
		log err "$FREEBSD_UPDATE install failed (status $status); not rebooting"
		exit "$status"
	}
fi

if [ ! -f "$KERNEL" ]; then
	if [ "$DRY_RUN" -eq 0 ]; then
		log err "$KERNEL not found; not rebooting"
		exit 1
	fi
	log notice "note: $KERNEL does not exist on this machine"
fi

log notice "staging $KERNEL: $KEXEC_TS load $KERNEL"
if run "$KEXEC_TS" load "$KERNEL"; then
	log notice "staged; rebooting into $KERNEL with kexec"
	# kexec-ts exec calls reboot(2) with RB_KEXEC itself: the kernel syncs the disks, but services are not
	# stopped by rc.shutdown(8) first. FreeBSD's clean path is a shutdown(8) whose final reboot(2) carries
	# RB_KEXEC, so that init(8) stops everything in order before the jump; when reboot(8)/shutdown(8) gain
	# that option, replace the exec line below with it (the staged image stays loaded until then).
	run sync
	if [ "$DRY_RUN" -eq 1 ]; then
		run "$KEXEC_TS" exec --yes
		printf 'would run, only if exec returned: shutdown -r now\n'
		exit 0
	fi
	"$KEXEC_TS" exec --yes || log err "$KEXEC_TS exec failed (status $?)"
	log err "kexec did not happen; falling back to a normal reboot"
else
	log err "$KEXEC_TS load failed (status $?); falling back to a normal reboot"
fi

log notice "rebooting: shutdown -r now"
run shutdown -r now
