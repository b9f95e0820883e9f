# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
import pytest
import torch


@pytest.fixture(autouse=True)
def single_intra_op_thread():
    """Run the model tests on one intra-op thread.

    The tensors here are tiny, so a second thread gains nothing; on a
    shared 2-core machine a busy-waiting second OpenMP thread slowed the GTM
    training test down more than tenfold. The previous setting is restored.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
