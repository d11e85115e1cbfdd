// Misbehaving fake agent: reads "memory" or "forkbomb" from fd 3, then tries
// to exhaust that resource inside the sandbox, reporting progress on fd 3.
//   memory:   touch 1 MiB chunks forever ("mib=N" lines) — expect an OOM kill
//   forkbomb: fork until fork fails ("forked=N errno=EAGAIN"), children wait
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main() {
  char req[32]{};
  if (read(3, req, sizeof req - 1) <= 0) return 2;
  char line[64];
  if (strncmp(req, "memory", 6) == 0) {
    for (int mib = 1;; ++mib) {
      // Written through a volatile pointer: clang otherwise proves the
      // never-read, never-freed buffer dead and removes malloc and memset.
      volatile char* p = static_cast<volatile char*>(malloc(1 << 20));
      if (p == nullptr) {
        dprintf(3, "malloc-failed\n");
        return 3;
      }
      for (int i = 0; i < (1 << 20); i += 4096) p[i] = 1;
      int n = snprintf(line, sizeof line, "mib=%d\n", mib);
      if (write(3, line, static_cast<size_t>(n)) < 0) return 4;
    }
  }
  if (strncmp(req, "forkbomb", 8) == 0) {
    int forked = 0;
    for (;;) {
      pid_t p = fork();
      if (p == 0) {
        for (;;) pause();
      }
      if (p < 0) {
        dprintf(3, "forked=%d errno=%s\n", forked, strerrorname_np(errno));
        return 0;  // pid 1 exits: the kernel kills every child
      }
      ++forked;
      if (forked > 100000) {
        dprintf(3, "forked=%d errno=none\n", forked);
        return 0;
      }
    }
  }
  return 5;
}
