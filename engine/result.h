// Result<T>: a value or the Status that explains why there is none.
//
//   Result<Tree> t = Tree::Decode(bytes);
//   if (!t.ok()) return t.status();
//   Use(*t);
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "engine/status.h"

namespace snap::engine {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {            // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace snap::engine

#define SNAP_CONCAT_INNER_(a, b) a##b
#define SNAP_CONCAT_(a, b) SNAP_CONCAT_INNER_(a, b)

// SNAP_ASSIGN_OR_RETURN(auto x, MakeX()); returns the Status on failure.
#define SNAP_ASSIGN_OR_RETURN(lhs, expr) \
  SNAP_ASSIGN_OR_RETURN_IMPL_(SNAP_CONCAT_(snap_result_, __LINE__), lhs, expr)
#define SNAP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
