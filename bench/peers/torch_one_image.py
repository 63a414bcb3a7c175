#!/usr/bin/python3
"""One image, end to end, the PyTorch way: import, load a ResNet-50 state dict, preprocess,
guided backprop, write the seed's four PNGs. `pnpm bench` times this process from start to
exit, next to `pnpm gbp IMAGE --model resnet50 --weights ...`.

    /usr/bin/python3 bench/peers/torch_one_image.py IMAGE STATE_DICT.pt OUT_DIR [NUM_CLASSES]

The seed's GuidedBackprop class and helpers (pytorch-cnn-visualizations' misc_functions.py:
preprocess_image, save_gradient_images, convert_to_grayscale, get_positive_negative_saliency) are
imported from examples/guided_backprop.py, writing .png like `pnpm gbp`. The target is the top
prediction (pnpm gbp's default). Imports are the ones the guided backprop needs (numpy, PIL,
torch, torchvision.models); the seed notebook also imports matplotlib for its colormap helpers,
which this script leaves out. Phase timings go to stderr.
"""
import time

T0 = time.perf_counter()
import os  # noqa: E402
import sys  # noqa: E402
import json  # noqa: E402

from PIL import Image  # noqa: E402
import torch  # noqa: E402
from torchvision import models  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'examples'))
import guided_backprop as seed  # noqa: E402  (the seed's class and misc_functions helpers)
from guided_backprop import (  # noqa: E402
    GuidedBackprop, convert_to_grayscale, get_positive_negative_saliency, preprocess_image, save_gradient_images)

T_IMPORT = time.perf_counter()


def main():
    img_path, state_dict_path, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    num_classes = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    torch.set_num_threads(int(os.environ.get('BENCH_THREADS', '2')))
    t = {'import': T_IMPORT - T0}
    t1 = time.perf_counter()
    model = models.resnet50(num_classes=num_classes)
    model.load_state_dict(torch.load(state_dict_path))
    t['load'] = time.perf_counter() - t1

    t1 = time.perf_counter()
    original_image = Image.open(img_path).convert('RGB')
    prep_img = preprocess_image(original_image)
    file_name_to_export = os.path.splitext(os.path.basename(img_path))[0]
    t['preprocess'] = time.perf_counter() - t1

    t1 = time.perf_counter()
    GBP = GuidedBackprop(model)
    output = model(prep_img)
    target_class = int(output.argmax(1)[0])
    guided_grads = GBP.generate_gradients(prep_img, target_class)
    t['guided_backprop'] = time.perf_counter() - t1

    t1 = time.perf_counter()
    seed.RESULTS = out_dir  # where the seed's save_gradient_images writes
    save_gradient_images(guided_grads, file_name_to_export + '_Guided_BP_color')
    grayscale_guided_grads = convert_to_grayscale(guided_grads)
    save_gradient_images(grayscale_guided_grads, file_name_to_export + '_Guided_BP_gray')
    pos_sal, neg_sal = get_positive_negative_saliency(guided_grads)
    save_gradient_images(pos_sal, file_name_to_export + '_pos_sal')
    save_gradient_images(neg_sal, file_name_to_export + '_neg_sal')
    t['write'] = time.perf_counter() - t1
    print('Guided backprop completed (target class %d)' % target_class)
    print('@@PHASES ' + json.dumps({k: round(v * 1000, 1) for k, v in t.items()}), file=sys.stderr)


if __name__ == '__main__':
    import warnings
    warnings.simplefilter('ignore')
    main()
