# Training runs. LS-Distill's teacher is the same setting's run of the original
# model (method none), whose training-set predictions are its soft labels.
# A finished run is recorded under results/<experiment>/runs/ (committed);
# the Snakefile counts a record as done while its settings are unchanged.


rule train:
    input:
        unpack(lambda w: plan.train_inputs(config, dict(w.items()))),
    output:
        os.path.join(RUNS, "{dataset}/{setting}/fold{fold}/seed{seed}/{model}/{method}/final.json"),
    log:
        os.path.join(RUNS, "{dataset}/{setting}/fold{fold}/seed{seed}/{model}/{method}/train.log"),
    threads: lambda w: workflow.cores  # a cluster profile sets its own (set-threads)
    resources:
        gpu=lambda w: 1 if w.model == "bert" else 0,
    params:
        flags=lambda w, input: plan.train_flags(config, dict(w.items()),
                                                dict(input.items())),
        run_dir=lambda w, output: os.path.dirname(output[0]),
        record=lambda w: plan.record_dir(config, dict(w.items())),
        meta=lambda w: plan.run_meta(config, dict(w.items())),
    shell:
        # The run directory is not an output: its checkpoints survive an
        # interrupted job, and `kwls train` resumes from them.
        "mkdir -p {params.run_dir} && echo '{params.meta}' > {params.run_dir}/run.json && "
        "kwls train {TRAIN_BASE} {params.flags} "
        "--run-dir {params.run_dir} > {log} 2>&1 && "
        "python -m kwls_jax.reporting.records {params.run_dir} {params.record} "
        ">> {log} 2>&1"
