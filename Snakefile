"""kwls-jax workflow: corpus -> soft labels -> summary tables and figures.

    snakemake --cores all --config data_dir=../shared/datasets

Intermediate files go to work/ (git-ignored); results/ keeps what is committed.
"""

import os

configfile: "experiments/soft_labels.yaml"

DATA_DIR = config.get("data_dir") or os.environ.get("KWLS_DATA_DIR", "")
DATA_FLAG = f"--data-dir {DATA_DIR}" if DATA_DIR else ""
CORPORA = [f"{c['name']}/{c['split']}" for c in config["corpora"]]
METHODS = config["methods"]
OUT = "results/soft_labels"


rule all:
    input:
        f"{OUT}/summary.md",
        f"{OUT}/summary.png",
        expand(OUT + "/keywords/{corpus}.txt", corpus=CORPORA),


rule corpus:
    output:
        "work/corpora/{name}/{split}.jsonl.gz",
    log:
        "work/logs/corpus/{name}/{split}.log",
    shell:
        "kwls corpus {wildcards.name} --split '{wildcards.split}' {DATA_FLAG} "
        "--out {output} 2> {log}"


rule soft_labels:
    input:
        "work/corpora/{name}/{split}.jsonl.gz",
    output:
        "work/soft_labels/{name}/{split}.{method}.npy",
    log:
        "work/logs/soft_labels/{name}/{split}.{method}.log",
    params:
        hp=f"--tokenizer {config['tokenizer']} --k1 {config['k1']} "
        f"--b {config['b']} --k2 {config['k2']} --epsilon {config['epsilon']}",
    shell:
        "kwls soft-labels {input} --out {output} --method {wildcards.method} "
        "{params.hp} 2> {log}"


rule keywords:
    input:
        "work/corpora/{name}/{split}.jsonl.gz",
    output:
        OUT + "/keywords/{name}/{split}.txt",
    log:
        "work/logs/keywords/{name}/{split}.log",
    shell:
        "kwls explain {input} --top 15 --tokenizer {config[tokenizer]} "
        "--instance 0 > {output}.tmp 2> {log} && mv {output}.tmp {output}"


rule summary:
    input:
        corpora=expand("work/corpora/{corpus}.jsonl.gz", corpus=CORPORA),
        soft=expand("work/soft_labels/{corpus}.{method}.npy", corpus=CORPORA,
                    method=METHODS),
    output:
        md=f"{OUT}/summary.md",
        png=f"{OUT}/summary.png",
    log:
        "work/logs/summary.log",
    params:
        pairs=" ".join(f"work/corpora/{c}.jsonl.gz:{m}:work/soft_labels/{c}.{m}.npy"
                       for c in CORPORA for m in METHODS),
    shell:
        "python -m kwls_jax.reporting.soft_label_summary {params.pairs} "
        "--out-md {output.md} --out-png {output.png} "
        "--command 'snakemake --cores all --config data_dir={DATA_DIR}' 2> {log}"
