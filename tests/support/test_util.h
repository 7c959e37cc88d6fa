// Helpers shared by tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "engine/result.h"
#include "engine/status.h"

// Accept a Status or a Result<T>.
#define ASSERT_OK(expr)                                            \
  do {                                                             \
    ::snap::engine::Status snap_s_ = ::snap::test::StatusOf(expr); \
    ASSERT_TRUE(snap_s_.ok()) << snap_s_.ToString();               \
  } while (0)
#define EXPECT_OK(expr)                                            \
  do {                                                             \
    ::snap::engine::Status snap_s_ = ::snap::test::StatusOf(expr); \
    EXPECT_TRUE(snap_s_.ok()) << snap_s_.ToString();               \
  } while (0)

namespace snap::test {

inline ::snap::engine::Status StatusOf(const ::snap::engine::Status& s) { return s; }
template <typename T>
::snap::engine::Status StatusOf(const ::snap::engine::Result<T>& r) { return r.status(); }

// A fresh empty directory under $TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace snap::test
