#!/usr/bin/env bash
# Gives a device (or a gateway) its own broker login, for deploy/mosquitto-production.conf.
#
#   deploy/add-device.sh kiln-7                 a device: may publish sensors/kiln-7 and sensors/kiln-7/<metric>
#   deploy/add-device.sh --gateway line-7-gw    a gateway: may publish anything under sensors/line-7-gw/
#
# Prints the new password once (store it on the device; it is not kept in clear anywhere),
# adds the user to the password file, a gateway's topic to the ACL, and asks a running
# mosquitto to read both again. Files: $PASSWORD_FILE (default
# /etc/mosquitto/sensorhub.passwd) and $ACL_FILE (default /etc/mosquitto/sensorhub.acl).
set -euo pipefail
gateway=false
if [ "${1:-}" = "--gateway" ]; then gateway=true; shift; fi
name=${1:-}
if ! [[ "$name" =~ ^[A-Za-z0-9._:-]{1,128}$ ]]; then
    echo "usage: $0 [--gateway] NAME   (NAME: 1-128 of A-Z a-z 0-9 . _ : -, as a SensorHub device name)" >&2
    exit 64
fi
password_file=${PASSWORD_FILE:-/etc/mosquitto/sensorhub.passwd}
acl_file=${ACL_FILE:-/etc/mosquitto/sensorhub.acl}
password=$(openssl rand -base64 24)
if [ -f "$password_file" ]; then
    mosquitto_passwd -b "$password_file" "$name" "$password"
else
    mosquitto_passwd -c -b "$password_file" "$name" "$password"
fi
if $gateway && ! grep -qx "user $name" "$acl_file"; then
    printf 'user %s\ntopic write sensors/%s/#\n' "$name" "$name" >> "$acl_file"
fi
# SIGHUP: mosquitto reads the password and ACL files again.
pkill -HUP -x mosquitto 2>/dev/null || true
echo "$name: password $password"
