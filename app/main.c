/* mlpio: storage benchmarks for AI workloads. */
#include "app/program.h"

int main(int argc, char **argv)
{
    return mlpio_main(argc, argv);
}
