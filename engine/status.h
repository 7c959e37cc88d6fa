// Status: the outcome of an operation that returns no value.
//
// Engine and replicator code report every failure as a Status (or a
// Result<T>, see result.h). A Status is cheap to copy when ok and carries a
// code plus a message naming the object and the step that failed, e.g.
// "pack 3f2a...: header checksum mismatch". Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace snap::engine {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,
    kCorruption,
    kIOError,
    kInvalidArgument,
    kNotSupported,
    kUnavailable,
    kAborted,
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status NotSupported(std::string msg) { return {Code::kNotSupported, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status Aborted(std::string msg) { return {Code::kAborted, std::move(msg)}; }

  // An IOError whose message ends with strerror(err).
  static Status FromErrno(std::string_view what, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  const std::string& message() const { return message_; }

  // "Corruption: pack 3f2a...: header checksum mismatch"; "OK" when ok.
  std::string ToString() const;

  // Returns a Status with the same code whose message is "context: message".
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

}  // namespace snap::engine

// Evaluates `expr` (a Status); returns it from the enclosing function if not ok.
#define SNAP_RETURN_IF_ERROR(expr)                        \
  do {                                                    \
    ::snap::engine::Status snap_status_ = (expr);         \
    if (!snap_status_.ok()) return snap_status_;          \
  } while (0)
