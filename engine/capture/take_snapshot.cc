// TakeSnapshot: captures every source, then commits in DESIGN.md's order:
// all packs written and indexed, then the snapshot record, then the catalog.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "engine/capture.h"
#include "engine/capture/dir_capture.h"
#include "engine/capture/encode_pool.h"

namespace snap::engine {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ValidateSources(const CaptureOptions& opts) {
  if (opts.sources.empty())
    return Status::InvalidArgument("no source given: pass --source NAME=PATH");
  std::set<std::string> names;
  for (const DirectorySource& s : opts.sources) {
    if (!snapshot::IsValidName(s.name))
      return Status::InvalidArgument("source name '" + s.name +
                                     "' is not usable: it must be a single path component");
    if (!names.insert(s.name).second)
      return Status::InvalidArgument("source name '" + s.name + "' is given twice");
  }
  return Status::OK();
}

// The most recent snapshot holding exactly these source names, if any.
std::optional<ChunkId> FindParent(const Repository& repo, const CaptureOptions& opts) {
  Result<std::vector<Repository::SnapshotInfo>> all = repo.ListSnapshots();
  if (!all.ok()) return std::nullopt;
  for (auto it = all->rbegin(); it != all->rend(); ++it) {
    if (it->record.host != opts.host || it->record.sources.size() != opts.sources.size()) continue;
    bool same = std::all_of(opts.sources.begin(), opts.sources.end(), [&](const auto& s) {
      return it->record.FindSource(s.name) != nullptr;
    });
    if (same) return it->id;
  }
  return std::nullopt;
}

}  // namespace

Result<CaptureResult> TakeSnapshot(Repository& repo, const CaptureOptions& opts) {
  SNAP_RETURN_IF_ERROR(ValidateSources(opts));
  CaptureResult result;
  snapshot::SnapshotRecord& rec = result.record;
  rec.time_ns = opts.time_ns ? opts.time_ns : NowNs();
  rec.host = opts.host;
  rec.user = opts.user;
  rec.tags = opts.tags;
  rec.parent = FindParent(repo, opts);
  rec.program_version = "snapctl 0.1.0";

  repo::PackSink sink(&repo);
  CaptureProgress progress;
  {
    capture::EncodePool pool(&repo, &sink, std::max(1, opts.workers), 32u << 20);
    for (const DirectorySource& src : opts.sources) {
      capture::DirCapture dc(&repo, &sink, &pool, opts, src, &progress);
      snapshot::SourceRecord sr;
      sr.name = src.name;
      sr.kind = snapshot::SourceKind::kDirectory;
      sr.path = src.path;
      sr.start_ns = NowNs();
      Result<ChunkId> root = dc.Run();
      if (!root.ok()) {
        (void)pool.Drain();
        return root.status();
      }
      SNAP_RETURN_IF_ERROR(pool.Drain());
      sr.end_ns = NowNs();
      sr.root = *root;
      sr.stats = dc.stats();
      sr.notes = dc.warnings();
      result.warnings.insert(result.warnings.end(), dc.warnings().begin(), dc.warnings().end());
      result.files_read += dc.files_read();
      rec.sources.push_back(std::move(sr));
    }
    SNAP_RETURN_IF_ERROR(pool.Drain());
  }
  SNAP_RETURN_IF_ERROR(sink.Flush());
  repo::SinkStats ss = sink.stats();
  std::sort(rec.sources.begin(), rec.sources.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  // Stored bytes are known per sink, not per source: credit the total to
  // the first source so the sum is right.
  if (!rec.sources.empty()) rec.sources[0].stats.stored_bytes = ss.stored_bytes;
  SNAP_ASSIGN_OR_RETURN(result.id, repo.CommitSnapshot(rec));
  return result;
}

}  // namespace snap::engine
