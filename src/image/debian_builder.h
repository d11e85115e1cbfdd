// The `debian` builder: hull.toml [image] with base = "debian:<suite>" → an
// image in the store, with hull.lock pinning every package.
//
// Three steps, so that package code never runs where the network is:
//   1. resolve (only without a usable lock, or with --update): mmdebstrap
//      --simulate asks apt what minbase + the spec's packages install from
//      the suite, -updates and -security → exact versions.
//   2. fetch: mmdebstrap --variant=extract downloads exactly those versions
//      (no maintainer script runs in this variant); each .deb is hashed and
//      kept in cache_dir()/debs/<sha256>.deb. With a lock, hashes must match
//      the lock, and when every .deb is cached already nothing is fetched.
//   3. install: a flat repository of those .debs only, and mmdebstrap
//      installing from it with no network; SOURCE_DATE_EPOCH = the newest
//      Release date in the lock. This is where package code (maintainer
//      scripts) runs, so it runs in a hull sandbox the front end gives (a
//      SandboxRunner: a microVM, or a namespace sandbox under its
//      package-install profile): the builder rootfs (Debian + mmdebstrap,
//      see builder_spec()), the repository read-only at /workspace, no
//      network, and its only output a tar on stdout that the host applies
//      like a hostile OCI layer (oci_layers.h: no path leaves the rootfs, no
//      device nodes). Only hull's own default image is built without a
//      runner: on the host as root in a chroot inside fresh network (none),
//      mount and pid namespaces ("isolation": "host-chroot"), because its
//      only input is Debian's archive and hull's fixed package list, the
//      same trust root as the builder image that sandboxes everything else.
//   Then [[image.files]] are copied in and the tree is published (digest =
//   content + config, see store.h).
// Same lock ⇒ same .debs ⇒ same tree ⇒ same digest (either isolation: the
// host path drops /dev's device nodes, which a tar from a sandbox cannot
// carry; every backend mounts its own /dev).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/lockfile.h"
#include "image/store.h"
#include "image/workload_spec.h"

namespace hull::image {

// One command in a sandbox that the front end starts (this module boots
// nothing itself). Everything the command writes to stdout lands in
// stdout_path, at most stdout_max bytes; its stderr in log_path.
struct SandboxedRun {
  std::string rootfs;             // the sandbox's root filesystem
  std::string readonly_dir;       // mounted read-only at /workspace
  std::vector<std::string> env;   // KEY=VALUE
  std::vector<std::string> argv;
  std::string stdout_path;
  uint64_t stdout_max = 0;
  std::string log_path;
};

struct SandboxRunner {
  std::string isolation;  // what the sandbox is, e.g. "microvm-tcg": recorded in the image
  std::function<Result<int>(const SandboxedRun&)> run;  // the command's exit code
};

struct DebianBuildRequest {
  WorkloadSpec spec;
  std::string spec_path;    // shown in the image's "source"
  std::string project_dir;  // [[image.files]] src are relative to it
  std::string lock_path;    // hull.lock; read if present, written when changed
  bool update = false;      // re-resolve even when the lock fits the spec
  bool locked = false;      // never change the lock: fail instead
  int progress_fd = -1;     // human progress lines, or -1
  std::optional<SandboxRunner> sandbox;  // none: install on the host (the default image only; see above)
  std::string why_host = "hull's default image, from Debian's archive only";  // said when sandbox is none
};

struct DebianBuildResult {
  ImageRecord image;
  DebianLock lock;
  bool lock_written = false;
  bool resolved = false;       // step 1 ran
  uint64_t fetched_debs = 0;   // .debs downloaded in step 2 (0: all cached)
  std::string isolation;       // where package code ran: "microvm-tcg", "host-chroot", ...
  double seconds = 0;
};

Result<DebianBuildResult> build_debian_image(const DebianBuildRequest& req, ImageStore& store);

// "deb <mirror> <suite> main", -updates and -security lines for a suite.
// HULL_DEBIAN_MIRROR / HULL_DEBIAN_SECURITY_MIRROR override the hosts.
std::vector<std::string> debian_sources(const std::string& suite);

// The spec's package request as recorded in the lock: sorted, deduplicated.
std::vector<std::string> requested_packages(const WorkloadSpec& spec);

}  // namespace hull::image
