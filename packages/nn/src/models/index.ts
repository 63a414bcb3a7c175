/**
 * torchvision architectures with torchvision's module trees and state-dict keys
 * (`nn.models.resnet50({ num_classes: 7 })`), for weights exported by
 * packages/nn/scripts/export_torchvision.py and loaded with `nn.load_safetensors`.
 */
export { AlexNet, alexnet, type AlexNetOptions } from './alexnet.ts';
export {
  VGG, make_layers, cfgs, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn,
  type VGGOptions, type VGGConfig,
} from './vgg.ts';
export {
  ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, resnet101, resnet152,
  type ResNetOptions, type ResNetBuilderOptions, type BlockOptions,
} from './resnet.ts';
// face-api's facial expression CNN (7 classes), loading face-api's bundled tfjs weights
export {
  FaceExpressionNet, DenseBlock, DenseBlockTail, SeparableConv2d, face_expression, face_expression_manifest_path,
  load_face_expression_weights, FACE_EXPRESSION_LABELS, FACE_EXPRESSION_MEAN_RGB, FACE_EXPRESSION_INPUT_SIZE,
  face_expression_resize, face_expression_normalize, face_expression_tensor,
  preprocess_face_expression, preprocess_face_expression_array,
  type FaceExpressionOptions, type FacePreprocessOptions, type ImageLike,
} from './face_expression.ts';
