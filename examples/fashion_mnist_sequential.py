"""The lecture's Fashion-MNIST MLP (Sequential API), trained by a filteropt optimizer.

    python examples/fashion_mnist_sequential.py [--quick] [--out DIR] [--epochs N]
                                                [--dropout P] [--l2 L]

Build, summary, compile, fit with validation (the last 10% of the training
images), plot the learning curves, save to .keras and load back, predict one
test image, evaluate on the test set. --quick trains 2 epochs on
scikit-learn's 8x8 digits instead, offline.
"""

from pathlib import Path

import keras

import filteropt
from filteropt.cli import tasks

parser = tasks.example_parser(__doc__.splitlines()[0])
parser.add_argument(
    "--dropout", type=float, default=0.0, help="dropout rate after the hidden layer"
)
parser.add_argument(
    "--l2", type=float, default=0.0, help="L2 penalty on the hidden layer's weights"
)
args = parser.parse_args()

task = tasks.get("digits" if args.quick else "fashion_mnist")
epochs = args.epochs or (2 if args.quick else task.default_epochs)
x_train, y_train, x_val, y_val, x_test, y_test = tasks.load_or_exit(task, args.seed)
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# The model, as a sequence of layers: 784 (or 64) - 128 - 10.
keras.utils.set_random_seed(args.seed)
model = keras.Sequential(
    [
        keras.Input(shape=x_train.shape[1:], name="images"),
        keras.layers.Flatten(),
        keras.layers.Dense(
            128,
            activation="relu",
            name="hidden",
            kernel_regularizer=keras.regularizers.L2(args.l2) if args.l2 else None,
        ),
        keras.layers.Dropout(args.dropout),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ]
)
model.summary()

# Adam = two unit-DC-gain AR1 filters + RMS normalizer (see `filteropt describe adam`).
model.compile(
    optimizer=filteropt.Adam(learning_rate=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
results = model.fit(
    x_train,
    y_train,
    batch_size=task.default_batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    verbose=2,
)
for path in tasks.plot_learning_curves(results, out, "sequential_", ylabel="cross-entropy"):
    print("saved", path)

# Save, then read back with no custom_objects: `import filteropt` registers its
# optimizers with Keras, in a fresh process too.
model_file = out / "fashion_mnist_sequential.keras"
model.save(model_file)
model_copy = keras.models.load_model(model_file)

prediction = model_copy.predict(x_test[:1], verbose=0)  # a batch of one image
tasks.print_prediction(prediction, task.class_names, y_test[0])

test_loss, test_acc = model_copy.evaluate(x_test, y_test, verbose=0)
print(f"Test loss: {test_loss:.3f}   Test accuracy: {100 * test_acc:.2f}%")
