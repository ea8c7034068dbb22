"""Reads Prometheus text from the file named by argv[1] with prometheus_client's parser (an
implementation fetchq did not write) and prints one JSON object: sample name with its labels in
name order, like `fetchq_attempts_total{result="success"}`, to value."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = {}
with open(sys.argv[1], encoding="utf-8") as text:
    for family in text_string_to_metric_families(text.read()):
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
print(json.dumps(samples))
