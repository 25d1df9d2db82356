"""Hand-written autograd kernels of the attention policy (private: no stable API).

* :mod:`.sparse_attention` -- fused per-receiver softmax attention over a CSR edge list;
* :mod:`.segment` -- segment sums, maxima and softmax over edge groups;
* :mod:`.gru`, :mod:`.layer_norm` -- fused GRU cell and layer norm with explicit backward.
"""
