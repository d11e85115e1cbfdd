# hull's nix builder test image: no inputs (the test machine reaches neither
# nixpkgs nor github), so the only tool in the build sandbox is the static
# busybox the test copies next to this file (Debian's busybox-static; a
# binary is not kept in the repo).
{
  description = "hull test image: busybox, /bin/sh, /etc/motd and a dependency";
  outputs = { self }:
    let
      bb = "${self}/busybox";
      script = name: file: extra: derivation ({
        inherit name bb;
        system = "x86_64-linux";
        builder = bb;
        args = [ "sh" "${self}/${file}" ];
      } // extra);
      # A second store path the image needs at run time: its closure.
      greeting = script "greeting-2.0" "greeting.sh" { };
    in {
      packages.x86_64-linux = {
        default = script "nix-hello-1.0" "build.sh" { inherit greeting; };
        # Builds only where the host's files are out of sight: proof that
        # hull ran nix with its build sandbox on.
        sandboxcheck = script "sandbox-check" "sandbox_check.sh" { };
      };
    };
}
