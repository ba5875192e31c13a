# Corpus -> pool/test files -> each fold's train/dev files under each setting.


rule corpus:
    output:
        os.path.join(WORK, "corpora/{dataset}/{part}.jsonl.gz"),
    log:
        os.path.join(WORK, "logs/corpus/{dataset}.{part}.log"),
    params:
        split=lambda w: DATASETS[w.dataset][w.part],
    shell:
        "kwls corpus {wildcards.dataset} --split '{params.split}' {DATA_FLAG} "
        "--out {output} 2> {log}"


rule subset:
    input:
        os.path.join(WORK, "corpora/{dataset}/pool.jsonl.gz"),
    output:
        train=os.path.join(WORK, "data/{dataset}/{setting}/fold{fold}/train.jsonl.gz"),
        dev=os.path.join(WORK, "data/{dataset}/{setting}/fold{fold}/dev.jsonl.gz"),
    log:
        os.path.join(WORK, "logs/subset/{dataset}.{setting}.fold{fold}.log"),
    params:
        k=config["k"],
    shell:
        "kwls subset {input} --setting {wildcards.setting} --fold {wildcards.fold} "
        "--k {params.k} --seed 0 --train-out {output.train} --dev-out {output.dev} "
        "2> {log}"
