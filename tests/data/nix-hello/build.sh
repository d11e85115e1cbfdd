# Runs inside the nix build sandbox, where nothing exists but $bb (and
# $greeting, a dependency): every command goes through busybox.
set -eu
"$bb" mkdir -p "$out/bin" "$out/etc"
"$bb" cp "$bb" "$out/bin/busybox"
"$bb" ln -s busybox "$out/bin/sh"
echo "hello from a nix-built image" > "$out/etc/motd"
# A reference to another store path: nix records it, hull copies it.
"$bb" ln -s "$greeting/share/greeting" "$out/etc/greeting"
# A reference to the output itself, as nix wrappers have.
printf '#!%s/bin/sh\necho "hello via %s"\n' "$out" "$out" > "$out/bin/hello"
"$bb" chmod 0555 "$out/bin/hello"
