#!/bin/sh
#
# pkgbase-kexec.sh: upgrade a packaged-base (pkgbase) system into a new ZFS boot environment, then boot that
# environment's kernel with kexec-ts, its root pointed at the new environment. The running system is never
# changed in place: pkgbase replaces /boot/kernel without a backup, so the upgrade goes into an inactive BE.
# Installed by the port as /usr/local/libexec/kexec-ts/pkgbase-kexec.sh.
#
#   1. bectl check                     boot environments are supported (ZFS root)
#   2. bectl create BE; bectl mount BE MNT
#   3. pkg -r MNT upgrade -y           upgrade the new environment's base (and packages) only
#   4. bectl activate BE               a later firmware reboot, or the fallback below, lands in it too
#   5. kexec-ts load --root MNT: the kernel, modules and environment the loader would take from the new
#      environment's /boot (kernelname as the new root sees it), with vfs.root.mountfrom=zfs:POOL/ROOT/BE
#   6. bectl umount BE; kexec-ts exec --yes (the clean exec)
#   7. shutdown -r now                 when 5 or 6 fails: the activated BE boots normally
#
#   --be NAME    the new environment's name (default kexec-YYYYmmdd-HHMMSS)
#   --dry-run    create nothing: print the steps and run `kexec-ts load --dry-run` on the running kernel
#
# A failed create/mount/upgrade stops without rebooting (and without activating). Progress goes to stderr and to
# syslog (tag pkgbase-kexec). Environment: KEXEC_TS (default kexec-ts).

set -eu

PROG=pkgbase-kexec
PATH="${PATH:+$PATH:}/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
KEXEC_TS=${KEXEC_TS:-kexec-ts}
BE=
DRY_RUN=0

usage() {
	printf 'usage: %s [--dry-run] [--be NAME]\n' "$PROG"
}

log() {
	level=$1
	shift
	printf '%s: %s\n' "$PROG" "$*" >&2
	if [ "$DRY_RUN" -eq 0 ]; then
		logger -t "$PROG" -p "daemon.$level" -- "$*" || :
	fi
}

fail() {
	log err "$1; not rebooting"
	exit "${2:-1}"
}

reboot_normally() {
	log err "$1; falling back to a normal reboot into boot environment $BE: shutdown -r now"
	exec shutdown -r now
}

while [ $# -gt 0 ]; do
	case $1 in
	-n | --dry-run) DRY_RUN=1 ;;
	--be)
		[ $# -ge 2 ] || {
			usage >&2
			exit 2
		}
		BE=$2
		shift
		;;
	--be=*) BE=${1#--be=} ;;
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
[ -n "$BE" ] || BE=kexec-$(date +%Y%m%d-%H%M%S)

bectl check || fail "boot environments are not supported here (bectl check failed; ZFS root needed)" 2

# The new root: the running root's parent dataset (POOL/ROOT) plus the new name.
mountfrom=$(kenv -q vfs.root.mountfrom || :)
case $mountfrom in
zfs:*/*) beroot=${mountfrom#zfs:} && beroot=${beroot%/*}/$BE ;;
*) fail "vfs.root.mountfrom is \"$mountfrom\", not a ZFS boot environment" 2 ;;
esac

if [ "$DRY_RUN" -eq 1 ]; then
	printf 'would run: bectl create %s; bectl mount %s MNT; pkg -r MNT upgrade -y; bectl activate %s\n' "$BE" "$BE" "$BE"
	printf 'would run: %s load --root MNT --env vfs.root.mountfrom=zfs:%s\n' "$KEXEC_TS" "$beroot"
	"$KEXEC_TS" load --dry-run || exit $?
	printf 'dry run: nothing was created, installed, staged or rebooted\n'
	exit 0
fi

log notice "creating boot environment $BE"
bectl create "$BE" || fail "bectl create $BE failed"
mnt=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX")
bectl mount "$BE" "$mnt" || fail "bectl mount $BE $mnt failed"
log notice "upgrading $BE: pkg -r $mnt upgrade -y"
if ! pkg -r "$mnt" upgrade -y; then
	bectl umount "$BE" || :
	fail "pkg -r $mnt upgrade failed; $BE is left for inspection (bectl destroy $BE to drop it)"
fi
bectl activate "$BE" || fail "bectl activate $BE failed"

log notice "staging the kernel of $BE (mounted on $mnt) with root zfs:$beroot"
staged=0
"$KEXEC_TS" load --root "$mnt" --env "vfs.root.mountfrom=zfs:$beroot" || staged=$?
bectl umount "$BE" || log warning "bectl umount $BE failed"
[ "$staged" -eq 0 ] || reboot_normally "$KEXEC_TS load failed (status $staged)"
log notice "staged; clean exec into boot environment $BE"
"$KEXEC_TS" exec --yes || :
reboot_normally "$KEXEC_TS exec returned without rebooting"
