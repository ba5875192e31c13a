# Soft labels of each training set (never of dev or test: the paper's footnote 2).


rule soft_labels:
    input:
        WORK + "/data/{dataset}/{setting}/fold{fold}/train.jsonl.gz",
    output:
        WORK + "/soft/{dataset}/{setting}/fold{fold}/{method}.npy",
    wildcard_constraints:
        method="classic|tfidf|kwls",
    log:
        WORK + "/logs/soft/{dataset}.{setting}.fold{fold}.{method}.log",
    params:
        hp=lambda w: " ".join(f"--{k} {v}" for k, v in SMOOTHING.items()),
    shell:
        "kwls soft-labels {input} --out {output} --method {wildcards.method} "
        "{params.hp} 2> {log}"
