#!/bin/sh
#
# rc.final-hook: call from /etc/rc.final (or install as /etc/rc.final when there is none) so that a shutdown
# armed by `service kexec_ts shutdown` ends in reboot(RB_KEXEC) instead of init's own reboot.
#
# sbin/init/init.c single_user(): when rebooting, init syncs, runs /etc/rc.final (runfinal: after rc.shutdown and
# after every process was sent SIGTERM then SIGKILL) and then calls reboot(howto). rc.final gets no argument, and
# runs for halt and power-off as well, so this hook acts only when (1) kexec_ts_final_enable is YES in rc.conf and
# (2) /var/db/kexec-ts/final-armed holds this boot's kern.boottime (written by `service kexec_ts shutdown`). The
# arm is removed first: one shot. When kexec-ts fails (nothing staged, library missing), the hook returns and
# init's normal reboot follows.
#
# Environment (for tests): KEXEC_TS (default /usr/local/bin/kexec-ts), KEXEC_TS_DB (default /var/db/kexec-ts).

PATH="${PATH:+$PATH:}/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
KEXEC_TS=${KEXEC_TS:-/usr/local/bin/kexec-ts}
armed=${KEXEC_TS_DB:-/var/db/kexec-ts}/final-armed

[ -f "$armed" ] || exit 0
arm=$(cat "$armed")
rm -f "$armed"
case $(sysrc -n kexec_ts_final_enable 2>/dev/null) in
[Yy][Ee][Ss] | [Tt][Rr][Uu][Ee] | [Oo][Nn] | 1) ;;
*) exit 0 ;;
esac
if [ "$arm" != "$(sysctl -n kern.boottime)" ]; then
	echo "rc.final-hook: the kexec arm is from another boot; rebooting normally"
	exit 0
fi
echo "rc.final-hook: reboot(RB_KEXEC) into the staged image"
"$KEXEC_TS" exec --now --yes
echo "rc.final-hook: kexec-ts exec returned (status $?); init reboots normally"
exit 0
