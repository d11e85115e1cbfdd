#include "backend/namespace/seccomp_filter.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <memory>
#include <span>

#include "base/sys.h"
#include "policy/seccomp_table.h"

namespace hull::backend::ns {

namespace {

struct CtxRelease {
  void operator()(void* c) const { seccomp_release(c); }
};

uint32_t action_of(const policy::SeccompEntry& e) {
  switch (e.action) {
    case policy::SeccompAction::kErrno: return SCMP_ACT_ERRNO(static_cast<uint16_t>(e.err));
    case policy::SeccompAction::kKillProcess: return SCMP_ACT_KILL_PROCESS;
  }
  return SCMP_ACT_KILL_PROCESS;
}

Result<SeccompProgram> compile(std::initializer_list<std::span<const policy::SeccompEntry>> tables,
                               bool package_install = false) {
  std::unique_ptr<void, CtxRelease> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return make_error("seccomp_init", "libseccomp failed to initialise");
  // Syscalls through any other ABI (int 0x80 i386, x32 numbers) kill.
  if (int r = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); r < 0)
    return sys_error("seccomp bad-arch action", -r);
  // We set no_new_privs ourselves, as its own step.
  if (int r = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); r < 0)
    return sys_error("seccomp nnp attribute", -r);
  std::vector<policy::SeccompEntry> entries;
  for (auto table : tables)
    for (const auto& e : table)
      if (!package_install || !policy::package_install_allows(e.syscall)) entries.push_back(e);
  size_t rules = 0;
  for (const auto& e : entries) {
    int nr = seccomp_syscall_resolve_name(e.syscall);
    if (nr == __NR_SCMP_ERROR) return make_error("seccomp policy", std::string("unknown syscall ") + e.syscall);
    int r;
    if (e.arg.not_equal) {
      // Spelled out rather than SCMP_CMP(), whose partial initializer trips
      // clang's -Wmissing-field-initializers.
      scmp_arg_cmp cmp{e.arg.index, SCMP_CMP_NE, e.arg.value, 0};
      r = seccomp_rule_add(ctx.get(), action_of(e), nr, 1, cmp);
    } else if (e.arg.mask != 0) {
      r = seccomp_rule_add(ctx.get(), action_of(e), nr, 1,
                           SCMP_CMP(e.arg.index, SCMP_CMP_MASKED_EQ, e.arg.mask, e.arg.value));
    } else {
      r = seccomp_rule_add(ctx.get(), action_of(e), nr, 0);
    }
    if (r < 0) return sys_error(std::string("seccomp rule ") + e.syscall, -r);
    ++rules;
  }
  int mfd = ::memfd_create("hull-seccomp", MFD_CLOEXEC);
  if (mfd < 0) return sys_error("memfd_create");
  UniqueFd mem(mfd);
  if (int r = seccomp_export_bpf(ctx.get(), mem.get()); r < 0) return sys_error("seccomp export", -r);
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return make_error("seccomp export", "unexpected program size");
  SeccompProgram prog;
  prog.rules = rules;
  prog.insns.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), prog.insns.data(), static_cast<size_t>(size), 0) != size)
    return sys_error("read seccomp program");
  if (prog.insns.size() > BPF_MAXINSNS) return make_error("seccomp", "program too long");
  return prog;
}

}  // namespace

Result<SeccompProgram> compile_seccomp_policy() {
  return compile({policy::seccomp_table(), policy::setid_seccomp_table()});
}

Result<SeccompProgram> compile_package_install_policy() {
  return compile({policy::seccomp_table()}, /*package_install=*/true);
}

Result<SeccompProgram> compile_setid_policy() { return compile({policy::setid_seccomp_table()}); }

int install_seccomp_program(const SeccompProgram& prog) {
  sock_fprog fp{static_cast<unsigned short>(prog.insns.size()),
                const_cast<sock_filter*>(prog.insns.data())};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) return errno;
  return 0;
}

}  // namespace hull::backend::ns
