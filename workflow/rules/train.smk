# Training runs. LS-Distill's teacher is the same setting's run of the original
# model (method none), whose training-set predictions are its soft labels.


def train_inputs(w):
    data = f"{WORK}/data/{w.dataset}/{w.setting}/fold{w.fold}"
    inputs = {"train": f"{data}/train.jsonl.gz", "dev": f"{data}/dev.jsonl.gz",
              "test": f"{WORK}/corpora/{w.dataset}/test.jsonl.gz"}
    if split_method(w.method)[0] in ("classic", "tfidf", "kwls"):
        inputs["soft"] = (f"{WORK}/soft/{w.dataset}/{w.setting}/fold{w.fold}/"
                          f"{soft_name(w.method)}.npy")
    if split_method(w.method)[0] == "distill":
        inputs["teacher"] = run_dir(w, method="none") + "/final.json"
    return inputs


def set_item(key, value):
    """KEY=VALUE as `kwls train --set` reads it: a string as given, anything
    else as JSON (true, [..], null; Python's True would arrive as a string)."""
    if isinstance(value, str):
        return f"{key}={value}"
    if isinstance(value, (bool, list, dict)) or value is None:
        return f"{key}={json.dumps(value)}"
    return f"{key}={value}"


def set_flag(key, value):
    """--set KEY=VALUE, quoted for the shell."""
    item = set_item(key, value)
    return f"--set '{item}'" if "'" not in item else f"--set {shlex.quote(item)}"


def train_flags(w, input):
    flags = {"name": f"{EXPERIMENT}-{w.dataset}-{w.setting}-f{w.fold}-s{w.seed}-"
                     f"{w.model}-{w.method}",
             "model.name": w.model, "method": split_method(w.method)[0],
             "seed": w.seed,
             "data.train": input.train, "data.dev": input.dev,
             "data.test": input.test, "wandb.project": WANDB_PROJECT,
             "wandb.group": EXPERIMENT,
             "wandb.job_type": f"{w.dataset}/{w.model}/{w.method}"}
    flags.update({f"smoothing.{k}": v for k, v in SMOOTHING.items()})
    if "soft" in input.keys():
        flags["soft_labels"] = input.soft
    if "teacher" in input.keys():
        flags["teacher_run"] = os.path.dirname(input.teacher)
    flags.update(config.get("train", {}))
    flags.update(split_method(w.method)[1])  # a sweep's values win
    return " ".join(set_flag(k, v) for k, v in flags.items())


rule train:
    input:
        unpack(train_inputs),
    output:
        RUNS + "/{dataset}/{setting}/fold{fold}/seed{seed}/{model}/{method}/final.json",
    log:
        RUNS + "/{dataset}/{setting}/fold{fold}/seed{seed}/{model}/{method}/train.log",
    threads: lambda w: workflow.cores  # a cluster profile sets its own (set-threads)
    resources:
        gpu=lambda w: 1 if w.model == "bert" else 0,
    params:
        flags=lambda w, input: train_flags(w, input),
        run_dir=lambda w, output: os.path.dirname(output[0]),
        meta=lambda w: json.dumps({"experiment": EXPERIMENT, "dataset": w.dataset,
                                   "setting": w.setting, "fold": int(w.fold),
                                   "seed": int(w.seed), "model": w.model,
                                   "method": w.method}),
    shell:
        # The run directory is not an output: its checkpoints survive an
        # interrupted job, and `kwls train` resumes from them.
        "mkdir -p {params.run_dir} && echo '{params.meta}' > {params.run_dir}/run.json && "
        "kwls train {TRAIN_BASE} {params.flags} "
        "--run-dir {params.run_dir} > {log} 2>&1"
