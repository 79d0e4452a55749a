"""The model zoo: TF-Slim's nets on the `slim` layer DSL.

Each net is one module with fixed entry points (`<net>`, `<net>_arg_scope`,
`<net>.default_image_size`, and `<net>_base` where the net has a trunk);
`nets_factory` looks them up by name.
"""
