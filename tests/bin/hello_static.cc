// The whole userland of a hand-made test image: prints its cwd, its
// arguments and $GREETING, so a test can see that an image's Cmd,
// WorkingDir and Env were carried into the sandbox.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  char cwd[4096] = "?";
  if (::getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '?', cwd[1] = '\0';
  const char* g = std::getenv("GREETING");
  std::printf("cwd=%s greeting=%s args=", cwd, g != nullptr ? g : "-");
  for (int i = 1; i < argc; ++i) std::printf("%s%s", i > 1 ? "," : "", argv[i]);
  std::printf("\n");
  return 0;
}
