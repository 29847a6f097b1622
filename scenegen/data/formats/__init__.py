"""Parsers of the posed-image dataset formats (Blender synthetic, nerfstudio / Instant-NGP ``transforms.json``,
LLFF ``poses_bounds.npy``) -> :class:`~scenegen.data.dataset.SceneDataset`. Parsers read; producers
(:mod:`scenegen.data.capture`, :mod:`scenegen.data.prior`, :mod:`scenegen.data.synth`) write datasets."""
