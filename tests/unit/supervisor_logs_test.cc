// Logs a sandbox can make the supervisor write are bounded: a service's log
// counts hull's own restart notes against its cap, and supervisor.log rotates.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "base/log.h"
#include "base/sys.h"
#include "base/temp_dir.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {
namespace {

namespace fs = std::filesystem;

TEST(CappedLog, HullsOwnNotesCountTowardTheCap) {
  auto dir = TempDir::create("/tmp", "hull-caplog-");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/svc.log";
  {
    CappedLog log(path, 1000);
    // A service that restarts forever: only hull's notes, no output.
    for (int i = 0; i < 500; ++i) log.note("[hull: svc exited with status 1; restarting in 0.5 s]\n");
  }
  // The cap, plus the one line that says it was reached.
  EXPECT_LE(fs::file_size(path), 1000u + 100u);
}

TEST(SupervisorLog, RotatesAtItsCapKeepingTheLatestLines) {
  auto dir = TempDir::create("/tmp", "hull-suplog-");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/supervisor.log";
  log::to_file(path, 64 * 1024);
  for (int i = 0; i < 20000; ++i) log::warn("line {} of a supervisor that a sandbox keeps busy", i);
  log::warn("the last line");
  spdlog::default_logger()->flush();
  EXPECT_LE(fs::file_size(path), 64u * 1024);
  const std::string older = dir->path() + "/supervisor.1.log";  // spdlog's naming
  ASSERT_TRUE(fs::exists(older));
  EXPECT_LE(fs::file_size(older), 64u * 1024);
  EXPECT_FALSE(fs::exists(dir->path() + "/supervisor.2.log"));
  auto text = sys::read_file(path);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("the last line"), std::string::npos);
}

}  // namespace
}  // namespace hull::supervisor
