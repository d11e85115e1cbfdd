// The microVM's QEMU command line: what the wall is made of, checked flag by flag.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/microvm/qemu_command.h"

namespace hull::backend::microvm {
namespace {

VmConfig config() {
  VmConfig c;
  c.kernel = "/k/bzImage";
  c.initramfs = "/k/init.cpio";
  c.root_disk = "/d/root,1.ext4";
  c.workspace = "/home/me/proj";
  c.hostname = "box";
  c.console_log = "/s/console.log";
  c.channel_fd = 3;
  return c;
}

// The value after `flag`, for every occurrence.
std::vector<std::string> values(const std::vector<std::string>& argv, const std::string& flag) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == flag) out.push_back(argv[i + 1]);
  return out;
}

bool has(const std::vector<std::string>& vs, const std::string& needle) {
  return std::any_of(vs.begin(), vs.end(), [&](const std::string& v) { return v.find(needle) != std::string::npos; });
}

TEST(MicrovmQemuCommand, RootDiskIsReadOnlyAndCommasAreEscaped) {
  auto argv = qemu_argv(config());
  auto drives = values(argv, "-drive");
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_NE(drives[0].find("readonly=on"), std::string::npos);
  EXPECT_NE(drives[0].find("file=/d/root,,1.ext4,"), std::string::npos) << drives[0];
}

TEST(MicrovmQemuCommand, NoNetworkDeviceNoDefaultsAndQemusOwnSeccomp) {
  auto argv = qemu_argv(config());
  for (const auto& a : argv) {
    EXPECT_EQ(a.find("netdev"), std::string::npos) << a;
    EXPECT_EQ(a.find("virtio-net"), std::string::npos) << a;
  }
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-nodefaults"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-no-user-config"), argv.end());
  auto sandbox = values(argv, "-sandbox");
  ASSERT_EQ(sandbox.size(), 1u);
  EXPECT_EQ(sandbox[0].rfind("on,", 0), 0u);
  EXPECT_NE(sandbox[0].find("spawn=deny"), std::string::npos);
  EXPECT_NE(sandbox[0].find("elevateprivileges=deny"), std::string::npos);
}

TEST(MicrovmQemuCommand, WorkspaceIs9pAndReadOnlyWhenAsked) {
  VmConfig c = config();
  auto rw = values(qemu_argv(c), "-fsdev");
  ASSERT_EQ(rw.size(), 1u);
  EXPECT_EQ(rw[0].find("readonly=on"), std::string::npos);
  c.workspace_ro = true;
  auto ro = values(qemu_argv(c), "-fsdev");
  ASSERT_EQ(ro.size(), 1u);
  EXPECT_NE(ro[0].find("readonly=on"), std::string::npos);
  EXPECT_NE(kernel_cmdline(c).find("hull.workspace_ro=1"), std::string::npos);
  c.workspace.clear();
  EXPECT_TRUE(values(qemu_argv(c), "-fsdev").empty());
  EXPECT_EQ(kernel_cmdline(c).find("hull.workspace"), std::string::npos);
}

TEST(MicrovmQemuCommand, ChannelIsTheInheritedFdOnANamedPort) {
  auto argv = qemu_argv(config());
  EXPECT_TRUE(has(values(argv, "-chardev"), "socket,id=channel,fd=3"));
  EXPECT_TRUE(has(values(argv, "-device"), "virtserialport,chardev=channel,name=hull.channel"));
}

TEST(MicrovmQemuCommand, AccelCpusMemoryAndCmdline) {
  VmConfig c = config();
  c.cpus = 2;
  c.memory_bytes = 768ull << 20;
  c.pids_max = 512;
  auto argv = qemu_argv(c);
  EXPECT_EQ(values(argv, "-accel"), std::vector<std::string>{"tcg,tb-size=256"});
  EXPECT_EQ(values(argv, "-smp"), std::vector<std::string>{"2"});
  EXPECT_EQ(values(argv, "-m"), std::vector<std::string>{"768M"});
  std::string cmdline = values(argv, "-append").at(0);
  EXPECT_NE(cmdline.find("hull.hostname=box"), std::string::npos);
  EXPECT_NE(cmdline.find("hull.pids_max=512"), std::string::npos);
  EXPECT_NE(cmdline.find("panic=-1"), std::string::npos);
  c.accel = Accel::kKvm;
  EXPECT_EQ(values(qemu_argv(c), "-accel"), std::vector<std::string>{"kvm"});
}

TEST(MicrovmQemuCommand, ConsoleIsAPathOrAnInheritedSocket) {
  VmConfig c = config();
  EXPECT_TRUE(has(values(qemu_argv(c), "-chardev"), "file,id=console,path=/s/console.log"));
  c.console_fd = 4;
  auto argv = qemu_argv(c);
  EXPECT_TRUE(has(values(argv, "-chardev"), "socket,id=console,fd=4"));
  EXPECT_TRUE(has(values(argv, "-serial"), "chardev:console"));
}

TEST(MicrovmQemuCommand, RootDiskIsAPathOrAnInheritedFdNeverBoth) {
  VmConfig c = config();
  c.root_disk_fd = 5;
  auto argv = qemu_argv(c);
  EXPECT_TRUE(has(values(argv, "-add-fd"), "fd=5,set=2"));
  auto drives = values(argv, "-drive");
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_NE(drives[0].find("file=/dev/fdset/2,"), std::string::npos) << drives[0];
  EXPECT_NE(drives[0].find("readonly=on"), std::string::npos) << drives[0];
  for (const auto& a : argv) EXPECT_EQ(a.find("/d/root"), std::string::npos) << a;
}

TEST(MicrovmQemuCommand, HostMemoryBudgetCoversGuestRamCodeCacheAndQemu) {
  VmConfig c = config();
  c.memory_bytes = 512ull << 20;
  EXPECT_EQ(host_memory_budget(c), (512ull + 256 + 256) << 20);
  c.accel = Accel::kKvm;  // no translated-code cache under KVM
  EXPECT_EQ(host_memory_budget(c), (512ull + 256) << 20);
  c.memory_bytes = 1;  // QEMU is given at least 128 MiB, so budget for it
  EXPECT_EQ(host_memory_budget(c), (128ull + 256) << 20);
}

}  // namespace
}  // namespace hull::backend::microvm
