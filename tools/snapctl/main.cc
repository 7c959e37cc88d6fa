#include "tools/snapctl/cli.h"

int main(int argc, char** argv) { return snap::cli::RunCli(argc, argv); }
