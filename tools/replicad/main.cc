#include "tools/replicad/cli.h"

int main(int argc, char** argv) { return snap::replicad::RunCli(argc, argv); }
