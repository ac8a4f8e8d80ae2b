#!/usr/bin/env python3
"""Regenerate lib/local/core/aws-models/*.json: the requests the local cloud answers, from AWS's own
service models as botocore ships them (Apache-2.0).

Keeps only the operations the local cloud emulates and the shapes their inputs reach, with the
constraints a request is checked against (required, type, enum, pattern, min/max, where a member
is bound on the wire), and drops documentation. A maintainer tool: the local cloud reads the
generated JSON and needs no Python.

    python3 scripts/aws-models.py [OUT_DIR]    # with botocore installed (pip); OUT_DIR for a comparison
"""
import json
import pathlib
import sys

import botocore
import botocore.session

# service -> the operations lib/local emulates (the handlers' switch statements).
EMULATED = {
    'stepfunctions': [
        'CreateStateMachine', 'DescribeExecution', 'DescribeStateMachine', 'DescribeStateMachineForExecution',
        'GetExecutionHistory', 'ListExecutions', 'ListStateMachines', 'RedriveExecution', 'SendTaskFailure',
        'SendTaskHeartbeat', 'SendTaskSuccess', 'StartExecution', 'StopExecution',
    ],
    'codebuild': ['BatchGetBuilds', 'BatchGetProjects', 'ListBuilds', 'ListBuildsForProject', 'ListProjects', 'StartBuild', 'StopBuild'],
    'sagemaker': [
        'CreateEndpoint', 'CreateEndpointConfig', 'CreateModel', 'DeleteEndpoint', 'DeleteEndpointConfig', 'DeleteModel',
        'DescribeEndpoint', 'DescribeEndpointConfig', 'DescribeModel', 'ListEndpoints', 'ListModels', 'UpdateEndpoint',
        'UpdateEndpointWeightsAndCapacities',
        # Model Registry (lib/local/services/sagemaker/model-registry.ts)
        'CreateModelPackage', 'CreateModelPackageGroup', 'DescribeModelPackage', 'DescribeModelPackageGroup', 'ListModelPackages',
        'UpdateModelPackage',
        # training jobs (issue 23): what createTrainingJob.sync calls
        'CreateTrainingJob', 'DescribeTrainingJob', 'StopTrainingJob',
    ],
    'sagemaker-runtime': ['InvokeEndpoint'],
    'sns': ['ListTopics', 'Publish'],
    # the console's live traffic and the shadow comparison (lib/local/services/cloudwatch/)
    'cloudwatch': ['GetMetricData'],
}
METADATA_KEYS = ('apiVersion', 'protocol', 'jsonVersion', 'targetPrefix', 'serviceId', 'endpointPrefix')
SHAPE_KEYS = ('type', 'required', 'enum', 'pattern', 'min', 'max', 'sensitive', 'union', 'document', 'flattened', 'locationName')
MEMBER_KEYS = ('shape', 'location', 'locationName', 'flattened', 'jsonvalue')
OUT = pathlib.Path(__file__).resolve().parent.parent / 'lib' / 'local' / 'core' / 'aws-models'


def subset(model, operations):
    shapes, ops = {}, {}

    def reach(name):
        if name in shapes:
            return
        src = model['shapes'][name]
        shape = {k: src[k] for k in SHAPE_KEYS if k in src}
        shapes[name] = shape
        if 'members' in src:
            shape['members'] = {}
            for member, ref in src['members'].items():
                shape['members'][member] = {k: ref[k] for k in MEMBER_KEYS if k in ref}
                reach(ref['shape'])
        for part in ('member', 'key', 'value'):
            if part in src:
                shape[part] = {k: src[part][k] for k in MEMBER_KEYS if k in src[part]}
                reach(src[part]['shape'])

    for name in operations:
        op = model['operations'][name]
        ops[name] = {'http': {k: op['http'][k] for k in ('method', 'requestUri') if k in op['http']}}
        if 'input' in op:
            ops[name]['input'] = op['input']['shape']
            reach(op['input']['shape'])
    return {
        'metadata': {k: model['metadata'][k] for k in METADATA_KEYS if k in model['metadata']},
        'operations': ops,
        'shapes': dict(sorted(shapes.items())),
    }


def main():
    out_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    loader = botocore.session.get_session().get_component('data_loader')
    for service, operations in EMULATED.items():
        model = loader.load_service_model(service, 'service-2')
        out = {'source': f'botocore {botocore.__version__}, botocore/data/{service}/{model["metadata"]["apiVersion"]}/service-2.json (Apache-2.0)'}
        out.update(subset(model, operations))
        (out_dir / f'{service}.json').write_text(json.dumps(out, indent=1, sort_keys=False) + '\n')
        print(f'{service}: {len(out["operations"])} operations, {len(out["shapes"])} shapes')


if __name__ == '__main__':
    main()
