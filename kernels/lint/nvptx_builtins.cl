/*
 * For scripts/lint-kernels only: the OpenCL built-ins conv_gemm.cl's kernels (conv_gemm, phase_bias) call,
 * defined for NVIDIA's PTX target with clang's NVVM built-ins, so that clang (which has no libclc here) can emit
 * PTX that ptxas assembles. Not a kernel: the host never compiles it.
 */
size_t __attribute__((overloadable)) get_local_id(uint dim) {
    return dim == 0 ? __nvvm_read_ptx_sreg_tid_x() : dim == 1 ? __nvvm_read_ptx_sreg_tid_y() : __nvvm_read_ptx_sreg_tid_z();
}

size_t __attribute__((overloadable)) get_group_id(uint dim) {
    return dim == 0 ? __nvvm_read_ptx_sreg_ctaid_x()
                    : dim == 1 ? __nvvm_read_ptx_sreg_ctaid_y() : __nvvm_read_ptx_sreg_ctaid_z();
}

size_t __attribute__((overloadable)) get_global_id(uint dim) {
    const size_t size = dim == 0 ? __nvvm_read_ptx_sreg_ntid_x()
                                 : dim == 1 ? __nvvm_read_ptx_sreg_ntid_y() : __nvvm_read_ptx_sreg_ntid_z();
    return get_group_id(dim) * size + get_local_id(dim);
}

void __attribute__((overloadable)) barrier(cl_mem_fence_flags flags) {
    __nvvm_bar_sync(0);
}
