// libFuzzer target for ParseConfigText (the snapctl TOML config file). It
// must never throw; an error is InvalidArgument naming the file; a file that
// loads holds only what the loader promises to have validated.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "tools/snapctl/config_file.h"

namespace {

using snap::cli::ConfigFile;
using snap::engine::Result;

constexpr char kPath[] = "fuzz.toml";

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "toml_config_fuzz: %s\n", what);
  __builtin_trap();
}

bool IsPathComponent(std::string_view n) {
  return !n.empty() && n != "." && n != ".." &&
         n.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

bool PowerOfTwoOrUnset(const std::optional<uint32_t>& v) { return !v || (*v & (*v - 1)) == 0; }

void VerifyLoaded(const ConfigFile& c) {
  std::set<std::string> names;  // sources and dumps share one namespace
  for (const auto& s : c.sources) {
    Check(IsPathComponent(s.name) && s.path.starts_with('/'), "accepted a bad source");
    Check(names.insert(s.name).second, "accepted a duplicate source name");
  }
  for (const auto& d : c.dumps) {
    Check(IsPathComponent(d.name) && !d.command.empty(), "accepted a bad dump");
    Check(names.insert(d.name).second, "accepted a dump named like a source or dump");
  }
  for (const auto& [name, p] : c.profiles) {
    Check(IsPathComponent(name), "accepted a bad profile name");
    for (const std::string& s : p.sources)
      Check(std::any_of(c.sources.begin(), c.sources.end(),
                        [&](const auto& src) { return src.name == s; }),
            "accepted a profile naming an unknown source");
    for (const std::string& d : p.dumps)
      Check(c.FindDump(d) && !c.FindDump(d)->restore.empty(),
            "accepted a profile naming a dump it cannot restore");
  }
  Check(PowerOfTwoOrUnset(c.file_chunking.avg) && PowerOfTwoOrUnset(c.dump_chunking.avg),
        "accepted an avg chunk size that is not a power of two");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    Result<ConfigFile> c = snap::cli::ParseConfigText(text, kPath);
    if (c.ok()) {
      VerifyLoaded(*c);
    } else {
      Check(c.status().IsInvalidArgument() &&
                c.status().message().starts_with(std::string(kPath) + ":"),
            "an error that is not InvalidArgument \"fuzz.toml:...\"");
    }
  } catch (...) {
    Check(false, "ParseConfigText threw");
  }
  return 0;
}
