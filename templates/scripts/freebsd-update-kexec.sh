#!/bin/sh
#
# freebsd-update-kexec.sh: install fetched FreeBSD updates, then boot the new kernel with kexec-ts instead of
# going through the firmware and the loader again. Installed by the port as
# /usr/local/libexec/kexec-ts/freebsd-update-kexec.sh, and by `kexec-ts init --script`.
#
#   1. freebsd-update updatesready   exit 2: nothing to install, stop here (usr.sbin/freebsd-update, cmd_updatesready)
#   2. freebsd-update install        a release upgrade installs the kernel only and asks for a reboot before the
#                                    rest ("Kernel updates have been installed"): that is the two-stage case, and
#                                    a marker in /var/db/kexec-ts makes the rc.d script finish `install` at boot
#   3. kexec-ts load KERNEL          default: kern.bootfile, the kernel freebsd-update installs over (KERNELDIR);
#                                    kexec-ts reads /boot/loader.conf itself for modules and environment
#   4. kexec-ts exec --yes           the clean exec: rc.shutdown, processes terminated, reboot(RB_KEXEC)
#   5. shutdown -r now               when 3 or 4 fails: a normal reboot boots the same new kernel
#
#   --finish     (rc.d kexec_ts start, at boot) run the pending second `freebsd-update install`, once
#   --dry-run    check updatesready and run `kexec-ts load --dry-run`; installs, stages and reboots nothing
#   --kernel K   boot K instead of kern.bootfile
#
# A failed install stops without rebooting. Progress goes to stderr and to syslog (tag freebsd-update-kexec).
# Environment: KEXEC_TS (default kexec-ts), FREEBSD_UPDATE (default freebsd-update), KEXEC_TS_DB (default
# /var/db/kexec-ts).

set -eu

PROG=freebsd-update-kexec
PATH="${PATH:+$PATH:}/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
KEXEC_TS=${KEXEC_TS:-kexec-ts}
FREEBSD_UPDATE=${FREEBSD_UPDATE:-freebsd-update}
DB=${KEXEC_TS_DB:-/var/db/kexec-ts}
PENDING=$DB/freebsd-update-pending
KERNEL=
DRY_RUN=0
FINISH=0

usage() {
	cat <<USAGE
usage: $PROG [--dry-run] [--kernel PATH]
       $PROG --finish
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

# reboot_normally REASON: the fallback, a plain shutdown(8) reboot into the same new kernel.
reboot_normally() {
	log err "$1; falling back to a normal reboot: shutdown -r now"
	exec shutdown -r now
}

while [ $# -gt 0 ]; do
	case $1 in
	-n | --dry-run) DRY_RUN=1 ;;
	--finish) FINISH=1 ;;
	--kernel)
		[ $# -ge 2 ] || {
			usage >&2
			exit 2
		}
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
	exit 2
fi

if [ "$FINISH" -eq 1 ]; then
	[ -f "$PENDING" ] || exit 0
	# One shot: removed before the install runs, so a failing install cannot run at every boot.
	rm -f "$PENDING"
	log notice "finishing the upgrade after the kexec into $(sysctl -n kern.bootfile): $FREEBSD_UPDATE install"
	if "$FREEBSD_UPDATE" install; then
		log notice "upgrade installed; if it asks, upgrade packages and run $FREEBSD_UPDATE install once more"
		exit 0
	fi
	status=$?
	log err "$FREEBSD_UPDATE install failed (status $status); finish it by hand"
	exit "$status"
fi

ready=0
"$FREEBSD_UPDATE" updatesready >/dev/null || ready=$?
case $ready in
0) ;;
2)
	log notice "no updates are available to install; nothing to do"
	exit 0
	;;
*)
	log err "$FREEBSD_UPDATE updatesready failed (status $ready); not rebooting"
	exit "$ready"
	;;
esac

[ -n "$KERNEL" ] || KERNEL=$(sysctl -n kern.bootfile)

if [ "$DRY_RUN" -eq 1 ]; then
	printf 'would run: %s install\n' "$FREEBSD_UPDATE"
	"$KEXEC_TS" load --dry-run "$KERNEL" || {
		status=$?
		printf '%s: kexec-ts load --dry-run failed (status %s): the real run would fall back to shutdown -r now\n' "$PROG" "$status" >&2
		exit "$status"
	}
	printf 'would run: %s exec --yes, and shutdown -r now if it returns\n' "$KEXEC_TS"
	printf 'dry run: nothing was installed, staged or rebooted\n'
	exit 0
fi

out=$(mktemp "${TMPDIR:-/tmp}/$PROG.XXXXXX")
trap 'rm -f "$out" "$out.status"' EXIT
log notice "installing updates: $FREEBSD_UPDATE install"
# Shown as it runs and kept, to see which stage was installed (sh has no pipefail: the status goes by file).
{
	status=0
	"$FREEBSD_UPDATE" install || status=$?
	echo "$status" >"$out.status"
} | tee "$out"
status=$(cat "$out.status")
if [ "$status" -ne 0 ]; then
	log err "$FREEBSD_UPDATE install failed (status $status); not rebooting"
	exit "$status"
fi
if grep -q 'Kernel updates have been installed' "$out"; then
	# The kernel stage of a two-stage upgrade: the rest is installed by the new kernel, at boot.
	mkdir -p "$DB"
	printf 'kernel=%s\n' "$KERNEL" >"$PENDING"
	log notice "kernel stage installed; rc.d/kexec_ts will run $FREEBSD_UPDATE install again after the reboot"
fi

log notice "staging $KERNEL: $KEXEC_TS load $KERNEL"
"$KEXEC_TS" load "$KERNEL" || reboot_normally "$KEXEC_TS load failed (status $?)"
log notice "staged; clean exec into $KERNEL"
"$KEXEC_TS" exec --yes || :
reboot_normally "$KEXEC_TS exec returned without rebooting"
