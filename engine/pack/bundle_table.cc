#include "engine/pack/bundle_table.h"

#include <string>

#include "engine/codec/varint.h"

namespace snap::engine::pack {

namespace {

Status TableError(const std::string& what) { return Status::Corruption("bundle table: " + what); }

}  // namespace

void AppendBundleTable(std::span<const uint32_t> lengths, Buffer* plain) {
  const size_t start = plain->size();
  codec::Encoder e(plain);
  for (uint32_t n : lengths) e.PutVarint(n);
  e.PutFixed32(static_cast<uint32_t>(plain->size() - start));
}

Result<BundleLayout> ParseBundleTable(ByteSpan plain) {
  if (plain.size() < 4) return TableError(std::to_string(plain.size()) + " bytes, no table length");
  uint32_t table_length = 0;
  codec::Decoder(plain.subspan(plain.size() - 4)).GetFixed32(&table_length);
  if (table_length > plain.size() - 4)
    return TableError("length " + std::to_string(table_length) + " exceeds the " +
                      std::to_string(plain.size() - 4) + " bytes before it");
  BundleLayout out;
  out.members_bytes = plain.size() - 4 - table_length;
  codec::Decoder d(plain.subspan(out.members_bytes, table_length));
  uint64_t sum = 0;
  while (!d.done()) {
    uint32_t n = 0;
    if (!d.GetVarint32(&n)) return TableError("malformed member length");
    if (n == 0) return TableError("empty member");
    if (out.lengths.size() == kMaxBundleMembers)
      return TableError("more than " + std::to_string(kMaxBundleMembers) + " members");
    out.lengths.push_back(n);
    sum += n;
  }
  if (out.lengths.size() < 2)
    return TableError(std::to_string(out.lengths.size()) + " member(s), not a bundle");
  if (sum != out.members_bytes)
    return TableError("members of " + std::to_string(sum) + " bytes where " +
                      std::to_string(out.members_bytes) + " precede the table");
  return out;
}

}  // namespace snap::engine::pack
