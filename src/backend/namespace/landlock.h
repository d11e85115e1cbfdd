// Landlock for the namespace sandbox, applied in the child after the new
// root is complete:
//   read, list, exec   everything beneath the new root
//   write              beneath each top-level directory but /proc, /dev and
//                      /.hull; /dev/shm, /dev/pts; the standard devices
// Nothing outside the new root at all: a directory fd that leaked from the
// host across pivot_root (or any path reached through one) lies outside its
// hierarchy, so every open, create or exec relative to it is denied. And
// procfs' writable knobs (oom_score_adj, /proc/<pid>/mem, ...) are not the
// sandbox's to turn, nor is a new entry in "/" itself.
#pragma once

// The ABI probe and the rights per ABI are shared with every confinement.
#include "base/landlock_abi.h"

// The ruleset itself is applied by landlock_restrict() (child_setup.h).
