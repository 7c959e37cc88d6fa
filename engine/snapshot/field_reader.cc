#include "engine/snapshot/field_reader.h"

namespace snap::engine::snapshot {
namespace {

// "tree: node 12", or "tree" without an index.
std::string Where(const char* object, size_t index) {
  std::string where = object;
  if (index != FieldReader::kNoIndex) where += " " + std::to_string(index);
  return where;
}

}  // namespace

Status FieldError(const char* object, size_t index, const std::string& msg) {
  return Status::Corruption(Where(object, index) + ": " + msg);
}

Status FieldReader::Str(std::string* s, size_t max, const char* field) {
  ByteSpan b;
  uint64_t n = 0;
  SNAP_RETURN_IF_ERROR(U64(&n, field));
  if (n > max) {
    return Error(std::string(field) + " is " + std::to_string(n) + " bytes, over the limit of " +
                 std::to_string(max));
  }
  SNAP_RETURN_IF_ERROR(Check(d_.GetRaw(n, &b), field));
  s->assign(AsChars(b));
  return Status::OK();
}

Status FieldReader::Bytes(ByteSpan* b, const char* field) {
  uint64_t n = 0;
  SNAP_RETURN_IF_ERROR(U64(&n, field));
  return Check(d_.GetRaw(n, b), field);
}

Status FieldReader::Count(size_t* n, size_t max, size_t min_item_bytes, const char* field) {
  uint64_t v = 0;
  SNAP_RETURN_IF_ERROR(U64(&v, field));
  if (v > max) {
    return Error(std::string(field) + " " + std::to_string(v) + " is over the limit of " +
                 std::to_string(max));
  }
  // Checked before the caller reserves anything, so a few hostile bytes
  // cannot claim gigabytes of memory.
  if (v > remaining() / min_item_bytes) {
    return Error(std::string(field) + " " + std::to_string(v) + " exceeds the remaining input");
  }
  *n = static_cast<size_t>(v);
  return Status::OK();
}

Status FieldReader::Presence(bool* present, const char* field) {
  uint8_t b = 0;
  SNAP_RETURN_IF_ERROR(U8(&b, field));
  if (b > 1) return Error(std::string(field) + " presence byte is " + std::to_string(b));
  *present = b == 1;
  return Status::OK();
}

Status FieldReader::Version(uint64_t known) {
  uint64_t v = 0;
  SNAP_RETURN_IF_ERROR(U64(&v, "version"));
  if (v > known) {
    return Status::NotSupported(Where(object_, index_) + ": version " + std::to_string(v) +
                                " is newer than this snapctl understands");
  }
  if (v != known) return Error("version " + std::to_string(v) + " is not valid");
  return Status::OK();
}

}  // namespace snap::engine::snapshot
