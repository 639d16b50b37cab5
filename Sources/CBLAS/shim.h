#include <cblas.h>
// OpenBLAS extensions used by the engine's threading plan.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
