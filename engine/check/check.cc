// CheckRepository: walks every snapshot's trees (each tree once), checks
// every referenced chunk is indexed and lies inside an existing pack, and
// with read_data reads every pack and authenticates every payload.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/check.h"
#include "engine/pack/frame_refs.h"
#include "engine/snapshot/stream_list.h"

namespace snap::engine {
namespace {

class Checker {
 public:
  Checker(const Repository& repo, const CheckOptions& opts, CheckReport* report)
      : repo_(repo), opts_(opts), report_(report) {}

  Status Run() {
    SNAP_RETURN_IF_ERROR(LoadPackSizes());
    if (opts_.read_data) SNAP_RETURN_IF_ERROR(ReadAllPacks());
    SNAP_RETURN_IF_ERROR(repo_.store().List("snapshots/", [&](std::string_view key, uint64_t) {
      snapshot_keys_.emplace_back(key);
      return Status::OK();
    }));
    for (const std::string& key : snapshot_keys_) CheckSnapshot(key);
    return Status::OK();
  }

 private:
  Status LoadPackSizes() {
    return repo_.store().List("packs/", [&](std::string_view key, uint64_t size) {
      pack_sizes_[std::string(key)] = size;
      report_->packs++;
      return Status::OK();
    });
  }

  // The packs this run reads: all, or the slice CheckOptions names.
  std::vector<std::string> PacksToRead() {
    std::vector<std::string> all;
    for (const auto& [key, size] : pack_sizes_) all.push_back(key);
    if (all.empty() || opts_.read_share >= 1.0) return all;
    uint64_t n = all.size();
    uint64_t count = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(opts_.read_share * n)));
    count = std::min(count, n);
    uint64_t first = opts_.cursor % n;
    std::vector<std::string> slice;
    for (uint64_t i = 0; i < count; i++) slice.push_back(all[(first + i) % n]);
    report_->next_cursor = (first + count) % n;
    return slice;
  }

  Status ReadAllPacks() {
    uint64_t done = 0;
    std::vector<std::string> packs = PacksToRead();
    for (const std::string& key : packs) {
      if (opts_.progress) opts_.progress("reading packs", done++, packs.size());
      read_packs_.insert(key);
      Result<Buffer> bytes = repo_.store().Get(key);
      if (!bytes.ok()) {
        report_->errors.push_back(key + ": " + bytes.status().ToString());
        continue;
      }
      report_->packs_read++;
      report_->bytes_read += bytes->size();
      VerifyPack(key, *bytes);
    }
    return Status::OK();
  }

  // Verifies each entry the footer lists on its own, so one damaged frame
  // does not hide the ones after it; without a readable footer, scans.
  void VerifyPack(const std::string& key, const Buffer& bytes) {
    Result<std::vector<pack::PackEntry>> entries = FooterOf(bytes);
    if (!entries.ok()) return ScanPack(key, bytes, entries.status());
    for (const pack::PackEntry& e : *entries) {
      std::string where = key + " @" + std::to_string(e.offset) + ": ";
      Result<pack::DecodedFrame> f =
          pack::DecodeFrame(ByteSpan(bytes).subspan(e.offset, e.length));
      Result<Buffer> plain = !f.ok()                ? Result<Buffer>(f.status())
                             : f->header.id != e.id ? Result<Buffer>(Status::Corruption(
                                                          "frame holds another chunk"))
                                                    : repo_.DecodePayload(*f);
      if (!plain.ok() && IndexedAt(e.id, key, e.offset))
        damaged_[e.id] = where + plain.status().message();
      verified_.insert(e.id);
    }
  }

  // A damaged copy matters only if it is the one the index reads (a
  // repair leaves the damaged copy behind and points the index elsewhere).
  bool IndexedAt(const ChunkId& id, const std::string& key, uint64_t offset) const {
    Result<std::optional<index::ChunkLocation>> loc = repo_.chunk_index().Get(id);
    if (!loc.ok() || !*loc) return true;
    return Repository::PackKey((*loc)->pack) == key && (*loc)->entry.offset == offset;
  }

  static Result<std::vector<pack::PackEntry>> FooterOf(const Buffer& bytes) {
    if (bytes.size() < pack::kTrailerSize) return Status::Corruption("pack too short");
    SNAP_ASSIGN_OR_RETURN(uint32_t flen,
                          pack::DecodeTrailer(ByteSpan(bytes).last(pack::kTrailerSize)));
    if (flen + pack::kTrailerSize > bytes.size()) return Status::Corruption("footer overruns");
    return pack::DecodeFooter(ByteSpan(bytes).last(flen + pack::kTrailerSize), bytes.size());
  }

  void ScanPack(const std::string& key, const Buffer& bytes, const Status& footer_error) {
    report_->errors.push_back(key + ": footer unreadable (" + footer_error.message() +
                              "); scanning its frames");
    Status scan = pack::ScanFrames(bytes, [&](const pack::PackEntry& e,
                                              const pack::DecodedFrame& f) {
      Result<Buffer> plain = repo_.DecodePayload(f);
      if (!plain.ok() && IndexedAt(e.id, key, e.offset)) {
        damaged_[e.id] = key + " @" + std::to_string(e.offset) + ": " + plain.status().message();
      }
      verified_.insert(e.id);
    });
    if (!scan.ok()) {
      report_->errors.push_back(key + ": " + scan.message());
      // Chunks indexed in this pack but not verified are damaged.
      (void)repo_.chunk_index().ForEach([&](const ChunkId& id, const index::ChunkLocation& l) {
        if (Repository::PackKey(l.pack) == key && !verified_.count(id))
          damaged_[id] = key + " @" + std::to_string(l.entry.offset) + ": unreadable frame";
        return true;
      });
    }
  }

 public:
  std::vector<ChunkId> Damaged() const {
    std::vector<ChunkId> out;
    for (const auto& [id, why] : damaged_) out.push_back(id);
    std::sort(out.begin(), out.end());
    return out;
  }

 private:

  void CheckSnapshot(const std::string& key) {
    std::optional<ChunkId> id = ChunkId::FromHex(key.substr(key.rfind('/') + 1));
    if (!id) return;
    report_->snapshots++;
    Result<snapshot::SnapshotRecord> rec = repo_.LoadSnapshot(*id);
    if (!rec.ok()) {
      report_->errors.push_back(rec.status().ToString());
      return;
    }
    for (const snapshot::SourceRecord& src : rec->sources) {
      std::string where = "snapshot " + id->ShortHex() + " " + src.name;
      if (src.kind == snapshot::SourceKind::kDump)
        CheckStream(src.root, where, 0);
      else
        CheckTree(src.root, where);
    }
  }

  // Reports every problem below `tree_id` for the snapshot source `where`.
  void CheckTree(const ChunkId& tree_id, const std::string& where) {
    for (const Problem& p : TreeProblems(tree_id))
      report_->errors.push_back(where + " " + (p.path.empty() ? "/" : p.path) + p.what);
  }

  // A problem below a tree: the path relative to it ("" for the tree
  // itself) and what is wrong (" (tree): damaged chunk ..." or ": ...").
  struct Problem {
    std::string path, what;
  };
  using Problems = std::vector<Problem>;

  // Every tree is read once; what was found below it is kept (damage is
  // rare, so this stays small) so that each snapshot sharing the tree is
  // told about each damaged file it holds.
  const Problems& TreeProblems(const ChunkId& tree_id) {
    auto known = tree_problems_.find(tree_id);
    if (known != tree_problems_.end()) return known->second;
    Problems out;
    if (std::optional<std::string> bad = ChunkProblem(tree_id)) {
      out.push_back({"", " (tree): " + *bad});
      return tree_problems_[tree_id] = std::move(out);
    }
    report_->trees++;
    Result<snapshot::Tree> tree = repo_.ReadTree(tree_id);
    if (!tree.ok()) {
      out.push_back({"", " (tree): " + tree.status().ToString()});
      return tree_problems_[tree_id] = std::move(out);
    }
    for (const snapshot::Node& n : tree->nodes) {
      if (n.subtree)
        for (const Problem& p : TreeProblems(*n.subtree))
          out.push_back({p.path.empty() ? n.name : n.name + "/" + p.path, p.what});
      for (const ChunkId& c : n.content)
        if (std::optional<std::string> bad = ChunkProblem(c)) out.push_back({n.name, ": " + *bad});
    }
    return tree_problems_[tree_id] = std::move(out);
  }

  void CheckStream(const ChunkId& list_id, const std::string& where, int depth) {
    if (!CheckChunk(list_id, where + " (stream list)")) return;
    Result<Buffer> bytes = repo_.ReadChunk(list_id);
    Result<snapshot::StreamList> list =
        bytes.ok() ? snapshot::StreamList::Decode(*bytes) : Result<snapshot::StreamList>(bytes.status());
    if (!list.ok() || (list->level > 0 && depth > 0)) {
      report_->errors.push_back(where + ": stream list " + list_id.ShortHex() + ": " +
                                (list.ok() ? "nested too deep" : list.status().ToString()));
      return;
    }
    for (const ChunkId& id : list->ids) {
      if (list->level == 1) CheckStream(id, where, depth + 1);
      else if (!checked_.count(id) || damaged_.count(id)) CheckChunk(id, where + " (dump data)");
    }
  }

  bool CheckChunk(const ChunkId& id, const std::string& owner) {
    std::optional<std::string> bad = ChunkProblem(id);
    if (bad) report_->errors.push_back(owner + ": " + *bad);
    return !bad;
  }

  // What is wrong with chunk `id`, if anything; each chunk is looked up once.
  std::optional<std::string> ChunkProblem(const ChunkId& id) {
    bool first = checked_.insert(id).second;
    if (first) report_->chunks_referenced++;
    auto d = damaged_.find(id);
    if (d != damaged_.end()) return "damaged chunk " + id.ShortHex() + " in " + d->second;
    if (!first) return std::nullopt;
    Result<std::optional<index::ChunkLocation>> loc = repo_.chunk_index().Get(id);
    if (!loc.ok()) {
      damaged_[id] = "the index";
      return "chunk " + id.ShortHex() + ": " + loc.status().ToString();
    }
    if (!*loc) {
      damaged_[id] = "missing";
      return "chunk " + id.ShortHex() +
             " is missing (when a pack still holds it, `snapctl check --rebuild-index` "
             "indexes it again)";
    }
    std::string pack = Repository::PackKey((*loc)->pack);
    auto size = pack_sizes_.find(pack);
    if (size == pack_sizes_.end() ||
        (*loc)->entry.offset + (*loc)->entry.length > size->second) {
      damaged_[id] = pack + " (missing)";
      return "chunk " + id.ShortHex() + " points into missing or short pack " + pack;
    }
    if (opts_.read_data && read_packs_.count(pack) && !verified_.count(id)) {
      damaged_[id] = pack;
      return "chunk " + id.ShortHex() + " not found in " + pack;
    }
    if (pack::HasBaseRefs((*loc)->entry.flags)) return BaseProblem(id, **loc);
    return std::nullopt;
  }

  // A slice or delta is only as present as what it is decoded from: the
  // refs of its frame (its header and refs only: without --read-data no
  // payload is read), checked like any chunk, down a bounded chain.
  std::optional<std::string> BaseProblem(const ChunkId& id, const index::ChunkLocation& loc) {
    const std::string key = Repository::PackKey(loc.pack);
    const std::string what = "chunk " + id.ShortHex() + " (" + key + " @" +
                             std::to_string(loc.entry.offset) + ")";
    auto bad = [&](const std::string& why) {
      damaged_[id] = key;
      return what + ": " + why;
    };
    if (base_depth_ > Repository::kMaxDeltaDepth + 1) return bad("its chain of bases is too long");
    Result<std::vector<ChunkId>> refs = pack::ReadFrameRefs(
        repo_.store(), key, loc.entry.offset, loc.entry.length, Repository::kMaxDeltaBases);
    if (!refs.ok()) return bad(refs.status().message());
    if (refs->empty()) return bad("no base among its refs");
    for (const ChunkId& base : *refs) {
      ++base_depth_;
      std::optional<std::string> problem = ChunkProblem(base);
      --base_depth_;
      if (problem) {
        damaged_[id] = "its base " + base.ShortHex();
        return "chunk " + id.ShortHex() + " is decoded from " + base.ShortHex() + ": " + *problem;
      }
    }
    return std::nullopt;
  }

  const Repository& repo_;
  const CheckOptions& opts_;
  CheckReport* report_;
  std::map<std::string, uint64_t> pack_sizes_;
  std::set<std::string> read_packs_;
  std::vector<std::string> snapshot_keys_;
  std::unordered_map<ChunkId, std::string, ChunkIdHash> damaged_;
  std::unordered_set<ChunkId, ChunkIdHash> verified_, checked_;
  std::unordered_map<ChunkId, Problems, ChunkIdHash> tree_problems_;
  int base_depth_ = 0;  // bases being checked below the chunk asked about
};

}  // namespace

Result<CheckReport> CheckRepository(const Repository& repo, const CheckOptions& opts) {
  CheckReport report;
  Checker c(repo, opts, &report);
  SNAP_RETURN_IF_ERROR(c.Run());
  report.damaged = c.Damaged();
  return report;
}

}  // namespace snap::engine
