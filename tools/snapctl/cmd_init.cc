// snapctl init [--no-encryption] [--password-file F]
#include <iostream>

#include "tools/snapctl/cli.h"

namespace snap::cli {

namespace {

// [chunking.files] / [chunking.dumps] override the defaults at init time;
// chunking is fixed for the repository's life.
void ApplyChunking(const ConfigFile& c, engine::repo::Config* config) {
  auto apply = [](const ChunkingConfig& from, engine::chunk::ChunkerParams* to) {
    if (from.min) to->min_size = *from.min;
    if (from.avg) to->avg_size = *from.avg;
    if (from.max) to->max_size = *from.max;
  };
  apply(c.file_chunking, &config->file_chunking);
  apply(c.dump_chunking, &config->dump_chunking);
}

}  // namespace

void RegisterInit(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("init", "create a repository");
  auto no_encryption = std::make_shared<bool>(false);
  auto key_out = std::make_shared<std::string>();
  cmd->add_flag("--no-encryption", *no_encryption, "store payloads unencrypted");
  cmd->add_option("--key-out", *key_out, "where to write the key file (default: config dir)");
  cmd->callback([&g, no_encryption, key_out] {
    g.run = [&g, no_encryption, key_out] {
      if (g.repo.empty()) return Fail(g, engine::Status::InvalidArgument(
                                             "no repository given: pass --repo DIR"));
      engine::InitOptions opts;
      opts.encrypted = !*no_encryption;
      auto config = LoadConfig(g);
      if (!config.ok()) return Fail(g, config.status());
      if (*config) ApplyChunking(**config, &opts.config);
      opts.key_file = *key_out;
      if (opts.encrypted) {
        engine::Result<std::string> pass = ReadPassphrase(g);
        if (pass.ok()) opts.passphrase = *pass;
        else if (!pass.status().IsNotFound()) return Fail(g, pass.status());
      }
      engine::Result<engine::InitResult> r = engine::Repository::Init(g.repo, opts);
      if (!r.ok()) return Fail(g, r.status());
      if (g.json) {
        PrintJson({{"repository", g.repo}, {"id", r->repo_id}, {"encrypted", opts.encrypted},
                   {"key_file", r->key_file}});
      } else if (!g.quiet) {
        std::cout << "created repository " << r->repo_id << " at " << g.repo << "\n";
        if (!r->key_file.empty())
          std::cout << "key file: " << r->key_file
                    << "\n  keep a copy elsewhere: without it the repository cannot be read\n";
        if (!opts.encrypted) std::cout << "encryption: off\n";
      }
      return 0;
    };
  });
}

}  // namespace snap::cli
