# Soft labels of each training set (never of dev or test: the paper's footnote 2).


rule soft_labels:
    input:
        os.path.join(WORK, "data/{dataset}/{setting}/fold{fold}/train.jsonl.gz"),
    output:
        os.path.join(WORK, "soft/{dataset}/{setting}/fold{fold}/{method}.npy"),
    wildcard_constraints:
        method=r"(classic|tfidf|kwls)(@[A-Za-z0-9_.+-]+)?",
    log:
        os.path.join(WORK, "logs/soft/{dataset}.{setting}.fold{fold}.{method}.log"),
    params:
        base=lambda w: plan.split_method(w.method)[0],
        hp=lambda w: plan.soft_label_flags(config, w.method),
    shell:
        "kwls soft-labels {input} --out {output} --method {params.base} "
        "{params.hp} 2> {log}"
