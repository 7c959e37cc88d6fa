// RocksKv: the KvStore on RocksDB, and the one place that includes it.
// rocksdb::Status is converted to our Status here and nowhere else.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <optional>

#include "engine/index/kv_store.h"

namespace snap::engine::index {
namespace {

constexpr size_t kWriteBufferBytes = 8u << 20;
constexpr uint64_t kMinFreeBytesToWrite = 40u << 20;
constexpr int kMaxWriteBuffers = 2;
constexpr int kMaxOpenFiles = 256;
constexpr size_t kKeepLogFiles = 3;
constexpr size_t kMaxLogFileBytes = 4u << 20;
constexpr int kCacheShardBits = 2;  // two cores: little contention to spread
constexpr uint64_t kMetadataBlockBytes = 4096;
// Bounds the batch a prefix without a successor is deleted in.
constexpr size_t kDeleteChunk = 4096;

// The smallest key above every key starting with `prefix`, or nullopt when
// there is none (an empty prefix, or one made only of 0xff bytes).
std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(s.back());
    if (last != 0xff) {
      ++last;
      return s;
    }
    s.pop_back();
  }
  return std::nullopt;
}

// RocksDB reports a held LOCK file as an IOError whose text depends on who
// holds it: this process ("lock hold by current process") or another one
// (flock's EAGAIN).
bool IsLockError(const rocksdb::Status& s) {
  const std::string text = s.ToString();
  return text.find("lock hold by current process") != std::string::npos ||
         text.find("Resource temporarily unavailable") != std::string::npos;
}

Status FromRocks(const rocksdb::Status& s, const std::string& dir, std::string_view step,
                 const std::string& advice) {
  if (s.ok()) return Status::OK();
  if (IsLockError(s)) {
    return Status::Unavailable("index " + dir + " is locked by another snapctl process");
  }
  std::string msg = "index " + dir + ": " + std::string(step) + ": " + s.ToString();
  if (s.IsBusy() || s.IsTryAgain()) return Status::Unavailable(std::move(msg));
  if (s.IsCorruption()) return Status::Corruption(msg + advice);
  return Status::IOError(std::move(msg));
}

// Free bytes on the file system of `dir`, or of its parent when it does
// not exist yet.
std::optional<uint64_t> FreeBytesNear(const std::string& dir) {
  struct statvfs st {};
  std::string at = dir;
  if (::statvfs(at.c_str(), &st) != 0) {
    at = std::filesystem::path(dir).parent_path().string();
    if (at.empty() || ::statvfs(at.c_str(), &st) != 0) return std::nullopt;
  }
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

rocksdb::CompressionType PickCompression() {
  // Keys and values are mostly random IDs; LZ4 is cheap enough to try, and
  // RocksDB stores a block raw when it does not shrink.
  auto supported = rocksdb::GetSupportedCompressions();
  bool lz4 = std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) !=
             supported.end();
  return lz4 ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
}

rocksdb::BlockBasedTableOptions TableOptions(const RocksOptions& opts) {
  rocksdb::BlockBasedTableOptions t;
  // Most look-ups during a backup are of new, absent chunks: the Bloom
  // filter answers them without reading a data block.
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks count against the bounded cache instead of
  // growing with the database. Whole-file filters (~1 MiB per 64 MiB table)
  // would not fit a cache shard and be re-read on every look-up, so they
  // are partitioned into small blocks under a pinned top level.
  t.block_cache = rocksdb::NewLRUCache(opts.block_cache_bytes, kCacheShardBits, false, 0.5);
  t.cache_index_and_filter_blocks = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.partition_filters = true;
  t.metadata_block_size = kMetadataBlockBytes;
  t.pin_top_level_index_and_filter = true;
  t.optimize_filters_for_memory = true;
  return t;
}

rocksdb::Options DbOptions(const RocksOptions& opts) {
  rocksdb::Options o;
  o.create_if_missing = opts.create_if_missing;
  o.IncreaseParallelism(2);
  o.write_buffer_size = kWriteBufferBytes;
  o.max_write_buffer_number = kMaxWriteBuffers;
  o.max_open_files = kMaxOpenFiles;
  o.keep_log_file_num = kKeepLogFiles;
  o.max_log_file_size = kMaxLogFileBytes;
  o.level_compaction_dynamic_level_bytes = true;
  o.compression = PickCompression();
  // The same for the memtable: a backup asks it about every new chunk, and
  // without a filter each question walks the skip list.
  o.memtable_whole_key_filtering = true;
  o.memtable_prefix_bloom_size_ratio = 0.05;
  // A torn last record (a crash mid-write) is dropped; damage anywhere else
  // in a log fails the open instead of silently losing what follows it.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(TableOptions(opts)));
  return o;
}

class RocksKv final : public KvStore {
 public:
  RocksKv(std::unique_ptr<rocksdb::DB> db, std::string dir, std::string advice)
      : db_(std::move(db)), dir_(std::move(dir)), advice_(std::move(advice)) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status MultiGet(const std::vector<std::string>& keys,
                  std::vector<std::optional<std::string>>* values) const override;
  Status Write(const WriteBatch& batch, bool sync) override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override;
  Status DeletePrefix(std::string_view prefix) override;
  Status Verify() const override { return Convert(db_->VerifyChecksum(), "verify"); }

 private:
  Status Convert(const rocksdb::Status& s, std::string_view step) const {
    return FromRocks(s, dir_, step, advice_);
  }
  Status DeleteByIteration(std::string_view prefix);

  std::unique_ptr<rocksdb::DB> db_;
  const std::string dir_;
  const std::string advice_;
};

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

Result<std::optional<std::string>> RocksKv::Get(std::string_view key) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Convert(s, "get");
  return std::optional<std::string>(value.ToString());
}

Status RocksKv::MultiGet(const std::vector<std::string>& keys,
                         std::vector<std::optional<std::string>>* values) const {
  const size_t n = keys.size();
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> found(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, slices.data(),
                found.data(), statuses.data());
  values->assign(n, std::nullopt);
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return Convert(statuses[i], "multiget");
    (*values)[i] = found[i].ToString();
  }
  return Status::OK();
}

Status RocksKv::Write(const WriteBatch& batch, bool sync) {
  // Applied in key order (ops on one key keep theirs): the memtable's skip
  // list then inserts each key next to the last one instead of searching
  // from its top, which is most of a large batch's cost.
  const std::vector<WriteBatch::Op>& ops = batch.ops();
  std::vector<uint32_t> order(ops.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return ops[a].key < ops[b].key; });
  rocksdb::WriteBatch wb;
  for (uint32_t i : order) {
    const WriteBatch::Op& op = ops[i];
    rocksdb::Status s = op.is_delete ? wb.Delete(op.key) : wb.Put(op.key, op.value);
    if (!s.ok()) return Convert(s, "batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return Convert(db_->Write(wo, &wb), "write");
}

Status RocksKv::Scan(std::string_view prefix,
                     const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const std::optional<std::string> end = PrefixSuccessor(prefix);
  rocksdb::Slice upper = end ? ToSlice(*end) : rocksdb::Slice();
  rocksdb::ReadOptions ro;
  if (end) ro.iterate_upper_bound = &upper;
  // A scan walks a whole keyspace once; keep it from evicting the hot
  // blocks point look-ups rely on.
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    std::string_view key = ToView(it->key());
    if (!key.starts_with(prefix)) break;
    if (!fn(key, ToView(it->value()))) break;
  }
  return Convert(it->status(), "scan");
}

Status RocksKv::DeletePrefix(std::string_view prefix) {
  const std::optional<std::string> end = PrefixSuccessor(prefix);
  if (!end) return DeleteByIteration(prefix);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return Convert(db_->DeleteRange(wo, db_->DefaultColumnFamily(), ToSlice(prefix),
                                  ToSlice(*end)),
                 "delete range");
}

// DeleteRange needs an end key; a prefix without a successor has none.
// Deletes in bounded batches while the iterator's implicit snapshot walks on.
Status RocksKv::DeleteByIteration(std::string_view prefix) {
  WriteBatch batch;
  Status written;
  SNAP_RETURN_IF_ERROR(Scan(prefix, [&](std::string_view key, std::string_view) {
    batch.Delete(key);
    if (batch.size() < kDeleteChunk) return true;
    written = Write(batch, true);
    batch = WriteBatch();
    return written.ok();
  }));
  SNAP_RETURN_IF_ERROR(written);
  return batch.empty() ? Status::OK() : Write(batch, true);
}

}  // namespace

Result<std::unique_ptr<KvStore>> OpenRocksKv(const std::string& dir, const RocksOptions& opts) {
  // RocksDB writes when it opens for writing (a new log, preallocated to
  // about a write buffer, a manifest, the replayed log as a table) and
  // aborts when the file system runs out of space there.
  if (std::optional<uint64_t> left = FreeBytesNear(dir); !opts.read_only && left &&
                                                         *left < kMinFreeBytesToWrite)
    return Status::IOError("index " + dir + ": " + std::to_string(*left >> 10) +
                           " KiB left: No space left on device (opening it for writing needs " +
                           std::to_string(kMinFreeBytesToWrite >> 20) +
                           " MiB); free space and run again");
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = opts.read_only ? rocksdb::DB::OpenForReadOnly(DbOptions(opts), dir, &raw)
                                     : rocksdb::DB::Open(DbOptions(opts), dir, &raw);
  if (!s.ok()) return FromRocks(s, dir, "open", opts.corruption_advice);
  return std::unique_ptr<KvStore>(
      new RocksKv(std::unique_ptr<rocksdb::DB>(raw), dir, opts.corruption_advice));
}

}  // namespace snap::engine::index
