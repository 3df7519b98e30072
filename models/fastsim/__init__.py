"""hepilot.models.fastsim: generative fast simulation replacing slow simulation chains.

    epic_gan     EPiC-GAN networks (arXiv:2301.08128) for jet point clouds
    jet_gan      JetGAN, the conditional EPiC-GAN estimator (jet type, pT -> 30 constituents)
    jet_clouds   jets in JetNet coordinates (eta_rel, phi_rel, pT_rel) from hepilot jet samples
    ccqe_gan     CCQEGAN, a conditional GAN for nu_mu CCQE muon kinematics (arXiv:2502.20244)
    metrics      JetNet W1M / W1P / W1EFP (arXiv:2106.11535) with the d = 4 EFPs
    evaluation   side-by-side fidelity: W1 against the simulation-vs-simulation floor, classifier AUC
"""
