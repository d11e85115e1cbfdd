# The dependency: a file that the image reaches by its /nix/store path.
set -eu
"$bb" mkdir -p "$out/share"
echo "greetings from another store path" > "$out/share/greeting"
