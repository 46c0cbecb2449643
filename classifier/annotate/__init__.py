"""The annotation loop: choose units to label, export them to labeling tools, import the labels back,
find likely label errors and measure agreement between annotators.

``suggest``   units worth labeling next (uncertainty, model/lexicon disagreement, rare classes, diversity)
``formats``   Label Studio, doccano and spreadsheet export and import, with validation per row
``check``     likely label errors from out-of-fold predictions (confident learning)
``agreement`` Cohen's kappa between two annotators' label files
"""
