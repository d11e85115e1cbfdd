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
//      installing from it in fresh network (none), mount and pid namespaces
//      that die with the build; SOURCE_DATE_EPOCH = the newest Release date
//      in the lock. Then [[image.files]] are copied in and the tree is
//      published (digest = content + config, see store.h).
// Same lock ⇒ same .debs ⇒ same tree ⇒ same digest.
//
// Honest limit: step 3 runs maintainer scripts as host root inside a chroot
// with no network; a hull sandbox around it is future work (docs/images.md).
#pragma once

#include <string>

#include "base/result.h"
#include "image/lockfile.h"
#include "image/store.h"
#include "image/workload_spec.h"

namespace hull::image {

struct DebianBuildRequest {
  WorkloadSpec spec;
  std::string spec_path;    // shown in the image's "source"
  std::string project_dir;  // [[image.files]] src are relative to it
  std::string lock_path;    // hull.lock; read if present, written when changed
  bool update = false;      // re-resolve even when the lock fits the spec
  bool locked = false;      // never change the lock: fail instead
  int progress_fd = -1;     // human progress lines, or -1
};

struct DebianBuildResult {
  ImageRecord image;
  DebianLock lock;
  bool lock_written = false;
  bool resolved = false;       // step 1 ran
  uint64_t fetched_debs = 0;   // .debs downloaded in step 2 (0: all cached)
  double seconds = 0;
};

Result<DebianBuildResult> build_debian_image(const DebianBuildRequest& req, ImageStore& store);

// "deb <mirror> <suite> main", -updates and -security lines for a suite.
// HULL_DEBIAN_MIRROR / HULL_DEBIAN_SECURITY_MIRROR override the hosts.
std::vector<std::string> debian_sources(const std::string& suite);

// The spec's package request as recorded in the lock: sorted, deduplicated.
std::vector<std::string> requested_packages(const WorkloadSpec& spec);

}  // namespace hull::image
