"""configs/famipose/metafile.yml lists only results this project measured: no PoseTrack or Sub-JHMDB number (the
paper's figures are quoted in the README, marked as the paper's), only the synthetic benchmark."""
import os.path as osp

import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_metafile_lists_only_measured_results():
    with open(osp.join(REPO, 'configs', 'famipose', 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    assert meta['Models']
    for model in meta['Models']:
        assert osp.isfile(osp.join(REPO, model['Config'])), model['Config']
        for result in model.get('Results') or []:
            assert 'synthetic' in result['Dataset'].lower(), (model['Name'], result)
            assert 'synthposetrack' in model['Config'], model['Name']
