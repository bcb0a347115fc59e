"""This project's own labblocks blocks, under the namespace `{{cookiecutter.module_name}}/`.

Register a block here and use its key in `model.net` (the runner imports this module, and config
validation imports it when it meets a `{{cookiecutter.module_name}}/...` key). For example:

    import labblocks
    from torch import nn

    @labblocks.register(
        "{{cookiecutter.module_name}}/tiny_cnn@v1",
        summary="Two 3x3 convs, global average pooling and a linear head.",
        inputs={"x": "b {in_chans} h w"},
        outputs="b {num_classes}",
    )
    class TinyCNN(nn.Module):
        def __init__(self, in_chans: int, num_classes: int, width: int = 32): ...

Once a key is used by a run, treat it as frozen: change behaviour under a new `@v2`. Blocks that other
projects need belong in labblocks itself.
"""
