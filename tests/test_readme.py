"""The README's Python example runs as written."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_net_example_runs():
    with open(os.path.join(ROOT, 'README.md')) as f:
        blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
    namespace = {}
    exec(compile(blocks[0], 'README.md', 'exec'), namespace)
    model = namespace['model']
    assert namespace['logits'].shape == (8, 10)
    assert model.variables[0].name == 'MyNet/conv1/conv1_1/weights:0'
    assert float(namespace['loss']) > 0
