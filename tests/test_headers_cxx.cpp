// The public header compiles as C++ and its inline helpers work there.
#include "hetmath.h"

#include <cstdio>

int main()
{
    hm_device d = hm_device_cuda(3);
    hm_execution e = hm_execution_cpu(2);
    if (d.type != HM_DEVICE_CUDA || d.id != 3 || e.kind != HM_EXEC_CPU || e.num_threads != 2)
        return 1;
    std::printf("test_headers_cxx: 1 passed, 0 failed\n");
    return 0;
}
