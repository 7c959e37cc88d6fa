// GcPlan: what one gc run does to each pack, decided from the marks
// (FORMAT.md "Garbage collection"):
//   - a pack an earlier record condemned or replaced ("pending") whose
//     record is eligible (older than the grace period and than every live
//     writer) is deleted when the fresh mark still finds it dead (a
//     replaced pack: when every live chunk in it has a copy in a pack a
//     record added), else restored; a pending pack whose record is not
//     eligible yet is left as it is;
//   - any other pack with nothing live is condemned (deleted by a later
//     run), and one whose live share of frame bytes is below the repack ratio is
//     repacked (its live frames copied, the pack then replaced).
// Packs whose frames could not all be listed are left alone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/gc/scratch.h"

namespace snap::engine::gc {

enum class PendingKind { kCondemned, kReplaced };

struct PendingPack {
  PendingKind kind = PendingKind::kCondemned;
  std::string record;  // key of the record that made it pending
  bool eligible = false;
};

struct PlannedPack {
  PackId pack{};
  uint64_t size = 0;
  uint64_t live_bytes = 0;  // of frames reachable from a snapshot
};

struct GcPlan {
  std::vector<PlannedPack> condemn, repack, remove, restore, waiting, incomplete;
  // Pending packs no longer in the store (a run died after its record):
  // recorded as deleted so writers stop hiding them.
  std::vector<PackId> vanished;
  uint64_t packs = 0, pack_bytes = 0, live_bytes = 0;
};

struct PlanInputs {
  const ScratchIndex* scratch = nullptr;
  std::map<PackId, PendingPack> pending;  // from the records, unresolved ones
  index::PackSet added;                   // every pack any record added
  double max_repack_ratio = 0.5;
};

Result<GcPlan> MakePlan(const PlanInputs& in);

}  // namespace snap::engine::gc
